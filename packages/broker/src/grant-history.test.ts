import { ForbiddenError, NotFoundError } from "@leasehold/domain";
import type { RotatedCredential, SecretStore } from "@leasehold/providers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RotationSetup } from "./broker.js";
import {
  admin,
  approvedProdGrant,
  approverA,
  askForProd,
  createHarness,
  grantInState,
  type Harness,
  outsider,
  requester,
  willing,
} from "./test-harness.js";

/*
 * What reviewers and admins read around a request or a grant, on real PostgreSQL: the requester's
 * earlier grants on the target (whoever may see the request), a grant's timeline from the audit trail
 * (whoever may see the grant), revocation debt and the configured rotations (admins). Everyone else
 * is refused, as by the neighbouring reads.
 */

/** Ports of a rotation that lists but never runs here: any call is a failure of the test. */
const unused = (what: string) => () => Promise.reject(new Error(`${what} must not be called`));
const idleSecret: SecretStore = {
  readCurrent: unused("readCurrent"),
  readPending: unused("readPending"),
  stagePending: unused("stagePending"),
  promote: unused("promote"),
  isCurrent: unused("isCurrent"),
};
const idleCredential: RotatedCredential = {
  next: unused("next"),
  set: unused("set"),
  test: unused("test"),
  retire: unused("retire"),
  undo: unused("undo"),
  check: unused("check"),
};

describe("request history, grant timelines, revocation debt and rotations on postgres", () => {
  let h: Harness;
  const queuedRuns: string[] = [];
  const rotation: RotationSetup = {
    rotations: new Map([
      [
        "orders-db",
        {
          config: {
            id: "orders-db",
            description: "the orders database's app password",
            secret: { vaultKv: { mount: "secret", path: "orders/app" } },
            schedule: { cron: "0 3 * * *", jitterSeconds: 60 },
          },
          secret: idleSecret,
          credential: idleCredential,
        },
      ],
    ]),
    enqueueRun: async (run) => {
      queuedRuns.push(run.triggerKey);
    },
  };

  beforeAll(async () => {
    h = await createHarness("postgres", willing, { rotation });
  });
  afterAll(async () => {
    await h.close();
  });

  describe("requests.history", () => {
    it("shows a request's reviewers, the requester and admins the requester's grants on that target, newest first", async () => {
      const first = await approvedProdGrant(h.broker);
      h.clock.advance(1);
      const second = await approvedProdGrant(h.broker);
      const { request } = await askForProd(h.broker);
      for (const who of [approverA, requester, admin]) {
        const grants = await h.broker.requests.history(who, request.id);
        expect(grants.map((g) => g.id).slice(0, 2)).toEqual([second.grant.id, first.grant.id]);
        expect(grants.every((g) => g.principalId === requester.id && g.targetId === "prod-readonly")).toBe(
          true,
        );
      }
      await h.broker.requests.cancel(requester, request.id);
    });

    it("keeps to the last 20", async () => {
      for (let i = 0; i < 21; i += 1) {
        h.clock.advance(1);
        await grantInState(h, "expired", -60);
      }
      const { request } = await askForProd(h.broker);
      expect(await h.broker.requests.history(approverA, request.id)).toHaveLength(20);
      await h.broker.requests.cancel(requester, request.id);
    });

    it("refuses anyone else as if the request did not exist", async () => {
      const { request } = await askForProd(h.broker);
      await expect(h.broker.requests.history(outsider, request.id)).rejects.toThrow(NotFoundError);
      await h.broker.requests.cancel(requester, request.id);
    });
  });

  describe("grants.timeline", () => {
    it("tells the holder and admins the grant's story and its request's, oldest first", async () => {
      const { request, grant } = await approvedProdGrant(h.broker);
      expect(await h.broker.grants.issue(grant.id, { isLast: false })).toBe("issued");
      for (const who of [requester, admin]) {
        const events = await h.broker.grants.timeline(who, grant.id);
        expect(events.map((e) => e.action)).toEqual([
          "request.created",
          "request.reviewed",
          "request.reviewed",
          "request.approved",
          "grant.created",
          "grant.issued",
        ]);
        expect(events.every((e) => e.subjectId === request.id || e.subjectId === grant.id)).toBe(true);
        const seqs = events.map((e) => e.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      }
    });

    it("refuses whoever may not see the grant (an approver of its request included), as grants.get does", async () => {
      const { grant } = await approvedProdGrant(h.broker);
      for (const who of [outsider, approverA]) {
        await expect(h.broker.grants.timeline(who, grant.id)).rejects.toThrow(NotFoundError);
        await expect(h.broker.grants.get(who, grant.id)).rejects.toThrow(NotFoundError);
      }
    });
  });

  describe("grants.revocationDebt", () => {
    it("lists admins the grants whose revocation gave up, and only those", async () => {
      const debt = await grantInState(h, "revocation_failed", 600);
      const active = await grantInState(h, "active", 600);
      const listed = (await h.broker.grants.revocationDebt(admin, { limit: 200 })).map((g) => g.id);
      expect(listed).toContain(debt);
      expect(listed).not.toContain(active);
      const states = (await h.broker.grants.revocationDebt(admin, { limit: 200 })).map((g) => g.state);
      expect(new Set(states)).toEqual(new Set(["revocation_failed"]));
    });

    it("refuses everyone else, the holder of the grant included", async () => {
      await expect(h.broker.grants.revocationDebt(requester, { limit: 10 })).rejects.toThrow(ForbiddenError);
      await expect(h.broker.grants.revocationDebt(approverA, { limit: 10 })).rejects.toThrow(ForbiddenError);
    });
  });

  describe("rotations.list", () => {
    it("lists admins each configured rotation with its schedule and its latest run", async () => {
      expect(await h.broker.rotations.list(admin)).toEqual([
        {
          id: "orders-db",
          kind: "vaultKv",
          schedule: { cron: "0 3 * * *", jitterSeconds: 60 },
          targetDescription: "the orders database's app password",
          lastRun: null,
        },
      ]);
      await h.broker.rotations.run(admin, "orders-db");
      h.clock.advance(1);
      const latest = await h.broker.rotations.run(admin, "orders-db");
      const [listed] = await h.broker.rotations.list(admin);
      expect(listed?.lastRun).toMatchObject({ id: latest.id, triggeredBy: admin.id, state: "running" });
      expect(queuedRuns).toHaveLength(2);
    });

    it("refuses everyone else", async () => {
      await expect(h.broker.rotations.list(requester)).rejects.toThrow(ForbiddenError);
    });
  });
});
