import { ConflictError, ForbiddenError, InvalidRequestError, NotFoundError } from "@leasehold/domain";
import type { CredentialProvider } from "@leasehold/providers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  approve,
  approverA,
  approverB,
  approverC,
  askForProd,
  createHarness,
  type Harness,
  outsider,
  person,
  prodTarget,
  requester,
} from "./test-harness.js";

/** Requests and reviews never call a provider; this one fails the test if they do. */
const noProvider: CredentialProvider = {
  kind: "aws-role",
  issue: () => Promise.reject(new Error("issue must not be called")),
  discardEarlierAttempts: () => Promise.reject(new Error("must not be called")),
  revoke: () => Promise.reject(new Error("must not be called")),
  expire: () => Promise.reject(new Error("must not be called")),
  release: () => Promise.reject(new Error("must not be called")),
  needsRelease: () => false,
};

describe.each(["pglite", "postgres"] as const)("asking and approving on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect, noProvider);
  });
  afterAll(async () => {
    await h.close();
  });

  const auditCount = async () => (await h.deps.store.read((r) => r.audit.verify())).events;
  const grantsFor = (requestId: string) => h.deps.store.read((r) => r.grants.findByRequestId(requestId));

  it("records a request and its audit event", async () => {
    const before = await auditCount();
    const { request, tally } = await askForProd(h.broker, { ticket: "OPS-1" });
    expect(request).toMatchObject({ state: "pending", requesterId: requester.id, durationSeconds: 3600 });
    expect(tally).toMatchObject({ needed: 2, outcome: "pending" });
    const events = await h.deps.store.read((r) =>
      r.audit.list({ afterSeq: 0, limit: 100, subjectId: request.id }),
    );
    expect(events.map((e) => e.action)).toEqual(["request.created"]);
    expect(await auditCount()).toBe(before + 1);
    await h.broker.requests.cancel(requester, request.id);
  });

  it.each([
    ["an unknown target", { targetId: "nope" }, NotFoundError],
    ["a duration over the maximum", { durationSeconds: 7201 }, InvalidRequestError],
    ["a duration under STS's minimum", { durationSeconds: 600 }, InvalidRequestError],
    ["a ticket in the wrong format", { ticket: "ticket 1" }, InvalidRequestError],
  ])("refuses %s and records nothing", async (_name, override, errorClass) => {
    const before = await auditCount();
    await expect(
      h.broker.requests.create(requester, {
        targetId: prodTarget.id,
        reason: "testing refusals",
        durationSeconds: 3600,
        ...override,
      }),
    ).rejects.toThrow(errorClass);
    expect(await auditCount()).toBe(before);
  });

  it("refuses someone who may not request the target", async () => {
    await expect(
      h.broker.requests.create(person("sales@example.com", ["sales"]), {
        targetId: prodTarget.id,
        reason: "curious",
      }),
    ).rejects.toThrow(ForbiddenError);
  });

  it("refuses a second pending request for the same target", async () => {
    const { request } = await askForProd(h.broker);
    await expect(askForProd(h.broker)).rejects.toThrow(/already have a pending request/);
    await h.broker.requests.cancel(requester, request.id);
  });

  it("refuses self-approval, even by someone in the approver group", async () => {
    const sreRequester = person("sre-dev@example.com", ["sre"]);
    const { request } = await h.broker.requests.create(sreRequester, {
      targetId: prodTarget.id,
      reason: "own request",
    });
    const before = await auditCount();
    await expect(approve(h.broker, sreRequester, request.id)).rejects.toThrow(/your own request/);
    expect(await auditCount()).toBe(before);
    expect((await h.broker.requests.get(sreRequester, request.id)).reviews).toEqual([]);
  });

  it("refuses a non-approver", async () => {
    const { request } = await askForProd(h.broker);
    await expect(approve(h.broker, outsider, request.id)).rejects.toThrow(ForbiddenError);
    await h.broker.requests.cancel(requester, request.id);
  });

  it("needs two distinct approvers; one approving twice does not count twice", async () => {
    const { request } = await askForProd(h.broker);
    const first = await approve(h.broker, approverA, request.id);
    expect(first).toMatchObject({ tally: { needed: 1, outcome: "pending" }, grant: null });
    await expect(approve(h.broker, approverA, request.id)).rejects.toThrow(/already reviewed/);
    expect(await grantsFor(request.id)).toBeUndefined();

    const second = await approve(h.broker, approverB, request.id);
    expect(second.request.state).toBe("approved");
    expect(second.grant).toMatchObject({
      state: "issuing",
      principalId: requester.id,
      durationSeconds: 3600,
    });
    expect(h.enqueued).toContainEqual({ queue: "issue", grantId: second.grant?.id });
    const actions = (await h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 500 })))
      .filter((e) => e.subjectId === request.id || e.subjectId === second.grant?.id)
      .map((e) => e.action);
    expect(actions).toEqual([
      "request.created",
      "request.reviewed",
      "request.reviewed",
      "request.approved",
      "grant.created",
    ]);
  });

  it("refuses a decision on a request that is no longer pending", async () => {
    const { request } = await askForProd(h.broker);
    await approve(h.broker, approverA, request.id);
    await approve(h.broker, approverB, request.id);
    await expect(approve(h.broker, approverC, request.id)).rejects.toThrow(ConflictError);
    await expect(
      h.broker.reviews.submit(approverC, { requestId: request.id, decision: "deny", comment: "too late" }),
    ).rejects.toThrow(/already approved/);
  });

  it("one denial ends the request without a grant", async () => {
    const { request } = await askForProd(h.broker);
    await approve(h.broker, approverA, request.id);
    const denied = await h.broker.reviews.submit(approverB, {
      requestId: request.id,
      decision: "deny",
      comment: "not during the freeze",
    });
    expect(denied).toMatchObject({ request: { state: "denied" }, grant: null });
    expect(await grantsFor(request.id)).toBeUndefined();
  });

  it("a request whose approval window closed cannot be approved, and the sweep expires it", async () => {
    const { request } = await askForProd(h.broker);
    h.clock.advance(prodTarget.pendingTtlSeconds + 1);
    await expect(approve(h.broker, approverA, request.id)).rejects.toThrow(/expired/);
    expect(await h.broker.requests.expireTimedOut(100)).toBeGreaterThanOrEqual(1);
    expect((await h.broker.requests.get(requester, request.id)).request.state).toBe("expired");
  });

  it("shows a request only to its requester, its approvers and admins", async () => {
    const { request } = await askForProd(h.broker);
    await expect(h.broker.requests.get(outsider, request.id)).rejects.toThrow(NotFoundError);
    expect((await h.broker.requests.get(approverA, request.id)).request.id).toBe(request.id);
    const toReview = await h.broker.requests.list(approverA, { view: "to-review", limit: 50 });
    expect(toReview.map((v) => v.request.id)).toContain(request.id);
    const forRequester = await h.broker.requests.list(requester, { view: "to-review", limit: 50 });
    expect(forRequester).toEqual([]);
    await expect(h.broker.requests.cancel(approverA, request.id)).rejects.toThrow(/only the requester/);
    await h.broker.requests.cancel(requester, request.id);
  });
});

describe("concurrent final approvals on postgres", () => {
  it("issue exactly one grant", async () => {
    const h = await createHarness("postgres", noProvider);
    try {
      for (let round = 0; round < 10; round++) {
        const { request } = await askForProd(h.broker);
        await approve(h.broker, approverA, request.id);
        const results = await Promise.allSettled([
          approve(h.broker, approverB, request.id),
          approve(h.broker, approverC, request.id),
        ]);
        const fulfilled = results.filter((r) => r.status === "fulfilled");
        const rejected = results.filter((r) => r.status === "rejected");
        expect(fulfilled).toHaveLength(1);
        expect(rejected).toHaveLength(1);
        expect(String((rejected[0] as PromiseRejectedResult).reason)).toMatch(/already approved/);
        const rows = await h.db.query<{ count: string }>(
          "SELECT count(*)::text AS count FROM grants WHERE request_id = $1",
          [request.id],
        );
        expect(rows).toEqual([{ count: "1" }]);
      }
      expect(h.enqueued.filter((e) => e.queue === "issue")).toHaveLength(10);
    } finally {
      await h.close();
    }
  });
});
