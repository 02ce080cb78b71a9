import { createStore, openPostgres } from "@leasehold/db";
import { type AccessRequest, ForbiddenError, NotFoundError, type Target } from "@leasehold/domain";
import { awsRoleTargetSchema } from "@leasehold/providers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Broker, createBroker } from "./broker.js";
import { createRequestEscalationService } from "./request-escalation-service.js";
import {
  approve,
  approverA,
  createHarness,
  type Harness,
  person,
  ROLE_ARN,
  willing,
} from "./test-harness.js";

/*
 * Escalation on real PostgreSQL with the harness's settable clock: the sweep (reconcile.run, as the
 * worker runs it) moves an undecided request one level up per escalateAfter, records each step, stops
 * at the last level and at the end of the pending window, and two workers' sweeps take each step once.
 */

const dev = person("dev@example.com", ["engineering"]);
const lead = person("lead@example.com", ["sre-leads"]);
const cto = person("cto@example.com", ["engineering"]);
const erin = person("erin@example.com", ["engineering"]);

const targetWith = (id: string, pendingTtl: string): Target =>
  awsRoleTargetSchema.parse({
    id,
    kind: "aws-role",
    requesters: { groups: ["engineering"] },
    approvers: { groups: ["sre"] },
    maxDuration: "1h",
    pendingTtl,
    escalateAfter: "30m",
    escalation: [
      { approvers: { groups: ["sre-leads"] }, slackChannel: "C0LEADS" },
      { approvers: { users: [cto.id] } },
    ],
    aws: { roleArn: ROLE_ARN },
  });

const escalating = targetWith("prod-admin", "2h");
/** Its window closes 45 minutes in: after the first step, before a second could fall due. */
const shortWindow = targetWith("prod-short", "45m");

describe("escalating unanswered requests", () => {
  let h: Harness;
  let other: Broker;
  let closeOther: () => Promise<void>;

  // A database per test: a request left pending by one test would otherwise escalate in the next.
  beforeEach(async () => {
    h = await createHarness("postgres", willing, { targets: [escalating, shortWindow] });
    if (h.url === undefined) throw new Error("expected a PostgreSQL database with a URL");
    // A second worker: its own connection pool over the same database, the same clock.
    const db = openPostgres(h.url);
    closeOther = () => db.close();
    other = createBroker({
      ...h.deps,
      store: createStore(db, { keyId: "k1", auditKey: Buffer.alloc(32, 3), grantKey: Buffer.alloc(32, 2) }),
    });
  });
  afterEach(async () => {
    await closeOther();
    await h.close();
  });

  const ask = async (targetId = escalating.id, who = dev) =>
    (await h.broker.requests.create(who, { targetId, reason: "deploy is stuck", durationSeconds: 900 }))
      .request;
  const stored = async (id: string): Promise<AccessRequest> => {
    const request = await h.deps.store.read((r) => r.requests.findById(id));
    if (!request) throw new Error(`request ${id} is gone`);
    return request;
  };
  const escalations = async (id: string) =>
    (await h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 10_000 })))
      .filter((e) => e.action === "request.escalated" && e.subjectId === id)
      .map((e) => ({ actor: e.actor, data: e.data, at: e.at }));
  const sweep = async () => (await h.broker.reconcile.run()).requestsEscalated;
  /** Moves the clock to `seconds` after `from`. */
  const at = (from: Date, seconds: number) => {
    h.clock.now = new Date(from.getTime() + seconds * 1000);
  };

  it("moves one level per escalateAfter, audited, and stops at the last level", async () => {
    const request = await ask();
    const t0 = request.createdAt;
    expect(request.escalateAt).toEqual(new Date(t0.getTime() + 1800_000));

    at(t0, 1799);
    await sweep();
    expect((await stored(request.id)).escalationLevel).toBe(0);

    at(t0, 1800);
    await sweep();
    // A second sweep in the same interval takes no second step.
    await sweep();
    const first = await stored(request.id);
    expect(first).toMatchObject({ escalationLevel: 1, escalateAt: new Date(t0.getTime() + 3600_000) });
    expect(await escalations(request.id)).toEqual([
      { actor: "system:sweep", data: { fromLevel: 0, toLevel: 1 }, at: h.clock.now },
    ]);

    at(t0, 3599);
    await sweep();
    expect((await stored(request.id)).escalationLevel).toBe(1);
    at(t0, 3600);
    await sweep();
    expect(await stored(request.id)).toMatchObject({ escalationLevel: 2, escalateAt: null });

    // The last level: nothing more, however long it waits within its window.
    at(t0, 7199);
    await sweep();
    expect((await stored(request.id)).escalationLevel).toBe(2);
    expect((await escalations(request.id)).map((e) => e.data)).toEqual([
      { fromLevel: 0, toLevel: 1 },
      { fromLevel: 1, toLevel: 2 },
    ]);
  });

  it("never escalates at or after the end of the pending window", async () => {
    const short = await ask(shortWindow.id);
    at(short.createdAt, 1800);
    await sweep();
    // The next step would fall due after the window closes, so none is scheduled.
    expect(await stored(short.id)).toMatchObject({ escalationLevel: 1, escalateAt: null });

    // A request whose step fell due while no sweep ran, found only after its window closed.
    const late = await ask();
    at(late.createdAt, 7200);
    expect(await createRequestEscalationService(h.deps).escalateDue(100)).toBe(0);
    expect(await stored(late.id)).toMatchObject({ escalationLevel: 0, state: "pending" });
    await sweep();
    expect(await stored(late.id)).toMatchObject({ escalationLevel: 0, state: "expired" });
    expect(await escalations(late.id)).toEqual([]);
  });

  it("two workers' sweeps over the same due requests take each step once", async () => {
    const requests = [await ask(), await ask(escalating.id, cto), await ask(escalating.id, erin)];
    at(requests[0]?.createdAt ?? h.clock.now, 1800);
    const reports = await Promise.all([h.broker.reconcile.run(), other.reconcile.run()]);
    expect(reports.map((r) => r.requestsEscalated).reduce((a, b) => a + b)).toBe(3);
    for (const request of requests) {
      expect((await escalations(request.id)).map((e) => e.data)).toEqual([{ fromLevel: 0, toLevel: 1 }]);
    }
    // The guard itself: the step from level 0 has been taken, so taking it again changes nothing.
    const id = requests[0]?.id ?? "";
    const step = { fromLevel: 0, toLevel: 1, nextAt: null };
    expect(await h.deps.store.transaction((r) => r.requests.escalate(id, step, h.clock.now))).toBe(false);
    expect(await stored(id)).toMatchObject({ escalationLevel: 1 });
  });

  it("a level's approver may approve only once the request reached that level", async () => {
    const request = await ask();
    await expect(approve(h.broker, lead, request.id)).rejects.toThrow(ForbiddenError);
    await expect(h.broker.requests.get(lead, request.id)).rejects.toThrow(NotFoundError);
    expect(await h.broker.requests.list(lead, { view: "to-review", limit: 100 })).toEqual([]);

    at(request.createdAt, 1800);
    await sweep();
    const toReview = await h.broker.requests.list(lead, { view: "to-review", limit: 100 });
    expect(toReview.map((v) => v.request.id)).toContain(request.id);
    // The CTO is level 2: not yet.
    await expect(approve(h.broker, cto, request.id)).rejects.toThrow(ForbiddenError);
    const { request: decided } = await approve(h.broker, lead, request.id);
    expect(decided.state).toBe("approved");
  });

  it("the earlier approvers keep their right, and the requester never counts at any level", async () => {
    const mine = await ask(escalating.id, cto);
    // The sweep was down for two intervals: it still takes one step, and the next a full interval later.
    at(mine.createdAt, 3600);
    await sweep();
    expect((await stored(mine.id)).escalationLevel).toBe(1);
    at(mine.createdAt, 3600 + 1799);
    await sweep();
    expect((await stored(mine.id)).escalationLevel).toBe(1);
    at(mine.createdAt, 3600 + 1800);
    await sweep();
    expect((await stored(mine.id)).escalationLevel).toBe(2);
    await expect(approve(h.broker, cto, mine.id)).rejects.toThrow(/your own request/);
    const { request: decided } = await approve(h.broker, approverA, mine.id);
    expect(decided.state).toBe("approved");
    // Decided: the sweep leaves it alone.
    at(mine.createdAt, 7000);
    await sweep();
    expect((await escalations(mine.id)).map((e) => e.data)).toHaveLength(2);
  });
});
