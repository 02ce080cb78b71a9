import { ConflictError, ForbiddenError, InvalidRequestError, type Principal } from "@leasehold/domain";
import { awsRoleTargetSchema } from "@leasehold/providers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  approverA,
  approverB,
  createHarness,
  type Harness,
  outsider,
  person,
  ROLE_ARN,
  willing,
} from "./test-harness.js";

/*
 * Break-glass on real PostgreSQL: access with no approver for whom policy allows it, a reason always,
 * the target's cap, one at a time per person, and a review afterwards by an approver who is not the
 * person; until it is reviewed, that person cannot break glass again.
 */

const target = awsRoleTargetSchema.parse({
  id: "prod-admin",
  kind: "aws-role",
  requesters: { groups: ["engineering"] },
  approvers: { groups: ["sre"] },
  maxDuration: "4h",
  defaultDuration: "2h",
  ticket: { pattern: "^[A-Z]+-[0-9]+$" },
  breakGlass: { allowed: { groups: ["oncall"] }, maxDuration: "30m" },
  aws: { roleArn: ROLE_ARN },
});

let people = 0;
/** A fresh on-call engineer per test, so no test's break-glass blocks another's. */
const onCall = (): Principal => {
  people += 1;
  return person(`oncall-${people}@example.com`, ["engineering", "oncall"]);
};
const notLast = { isLast: false };
const reason = "orders API is down, INC-7";

describe("break-glass on postgres", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("postgres", willing, { targets: [target] });
  });
  afterAll(async () => {
    await h.close();
  });

  const auditCount = async () => (await h.deps.store.read((r) => r.audit.verify())).events;
  const rowsOf = async (who: Principal) =>
    (
      await h.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM access_requests WHERE requester_id = $1",
        [who.id],
      )
    )[0]?.n;
  const breakGlass = (who: Principal, extra: { durationSeconds?: number; ticket?: string } = {}) =>
    h.broker.requests.breakGlass(who, { targetId: target.id, reason, ...extra });
  /** Issues the grant, then revokes it to the end: the break-glass is no longer live. */
  const end = async (who: Principal, grantId: string) => {
    expect(await h.broker.grants.issue(grantId, notLast)).toBe("issued");
    await h.broker.grants.revoke(who, { grantId });
    expect(await h.broker.grants.finishRevoke(grantId, notLast)).toBe("revoked");
  };
  const justify = (who: Principal, requestId: string) =>
    h.broker.requests.reviewBreakGlass(who, { requestId, verdict: "justified" });

  it("gives an allowed person a grant at once, with no approver, audited with the policy that allowed it", async () => {
    const me = onCall();
    const { request, grant } = await breakGlass(me, { ticket: "INC-7" });
    expect(request).toMatchObject({
      state: "approved",
      breakGlass: true,
      requesterId: me.id,
      ticket: "INC-7",
    });
    // The default is the lesser of the target's default (2h) and its break-glass cap (30m).
    expect(grant).toMatchObject({
      state: "issuing",
      requestId: request.id,
      principalId: me.id,
      durationSeconds: 1800,
    });
    expect(h.enqueued).toContainEqual({ queue: "issue", grantId: grant.id });
    const events = await h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 1000 }));
    const mine = events.filter((e) => e.subjectId === request.id || e.subjectId === grant.id);
    expect(mine.map((e) => e.action)).toEqual(["request.break_glass", "grant.created"]);
    expect(mine[0]).toMatchObject({
      actor: me.id,
      data: {
        targetId: target.id,
        reason,
        ticket: "INC-7",
        durationSeconds: 1800,
        policies: [`target/${target.id}/break-glass`],
      },
    });
    // The worker issues it: the audit trail vouches for it without an approval event.
    expect(await h.broker.grants.issue(grant.id, notLast)).toBe("issued");
  });

  it("refuses a person the target does not allow, with advice, and records nothing", async () => {
    const before = await auditCount();
    const refused = breakGlass(outsider);
    await expect(refused).rejects.toThrow(ForbiddenError);
    await expect(breakGlass(outsider)).rejects.toThrow(
      /you may not break glass on prod-admin: .*ask for access with approval instead \(leasehold request prod-admin\)/,
    );
    expect(await auditCount()).toBe(before);
    expect(await rowsOf(outsider)).toBe(0);
  });

  it.each([
    ["no reason", { reason: "" }, /reason must be at least/],
    ["a blank reason", { reason: "   " }, /reason must be at least/],
    ["a duration over the break-glass cap", { durationSeconds: 1801 }, /lasts at most 1800 seconds/],
    ["a ticket in the wrong format", { ticket: "inc 7" }, /ticket/],
  ])("refuses %s with a clear error and records nothing", async (_name, override, message) => {
    const me = onCall();
    const before = await auditCount();
    const attempt = h.broker.requests.breakGlass(me, { targetId: target.id, reason, ...override });
    await expect(attempt).rejects.toThrow(InvalidRequestError);
    await expect(
      h.broker.requests.breakGlass(me, { targetId: target.id, reason, ...override }),
    ).rejects.toThrow(message);
    expect(await auditCount()).toBe(before);
    expect(await rowsOf(me)).toBe(0);
  });

  it("lets exactly one of two concurrent break-glasses by one person through", async () => {
    const me = onCall();
    const results = await Promise.allSettled([breakGlass(me), breakGlass(me)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const [failure] = results.filter((r) => r.status === "rejected");
    expect(failure?.reason).toBeInstanceOf(ConflictError);
    expect(await rowsOf(me)).toBe(1);
  });

  it("blocks the next break-glass while one is live, and while one is unreviewed", async () => {
    const me = onCall();
    const { request, grant } = await breakGlass(me);
    await expect(breakGlass(me)).rejects.toThrow(/has not been reviewed yet/);
    // Reviewed but still live: at most one at a time.
    await justify(approverA, request.id);
    await expect(breakGlass(me)).rejects.toThrow(
      /is still active \(issuing\); at most one break-glass at a time/,
    );
    await end(me, grant.id);
    const next = await breakGlass(me);
    await end(me, next.grant.id);
    // Ended, but nobody reviewed it: the next one waits for the review.
    const before = await auditCount();
    await expect(breakGlass(me)).rejects.toThrow(
      new RegExp(`your break-glass on prod-admin \\(${next.request.id}\\) has not been reviewed yet`),
    );
    expect(await auditCount()).toBe(before);
    expect(await rowsOf(me)).toBe(2);
  });

  it("refuses a review by the person who broke the glass, and by anyone who is not an approver", async () => {
    const me = onCall();
    const { request } = await breakGlass(me);
    const before = await auditCount();
    await expect(justify(me, request.id)).rejects.toThrow(/you cannot review your own break-glass/);
    await expect(justify(outsider, request.id)).rejects.toThrow(ForbiddenError);
    expect(await auditCount()).toBe(before);
    // The database refuses it too, however the id is spelt.
    const selfReview = h.deps.store.transaction((r) =>
      r.breakGlass.insertReview(
        {
          requestId: request.id,
          reviewerId: me.id.toUpperCase(),
          verdict: "justified",
          comment: null,
          reviewedAt: h.clock.now,
        },
        me.id,
      ),
    );
    await expect(selfReview).rejects.toThrow(/check constraint/);
    // Not even an approver who breaks glass may review their own.
    const sre = person(`sre-${people}@example.com`, ["sre", "oncall"]);
    const own = await breakGlass(sre);
    await expect(justify(sre, own.request.id)).rejects.toThrow(/your own break-glass/);
  });

  it("an approver's review is recorded once, shows in the open items, and frees the next break-glass", async () => {
    const me = onCall();
    const { request, grant } = await breakGlass(me);
    const open = await h.broker.requests.openBreakGlass(approverB, { limit: 200 });
    expect(open.toReview.map((i) => i.request.id)).toContain(request.id);
    expect((await h.broker.requests.openBreakGlass(me, { limit: 200 })).mine?.request.id).toBe(request.id);
    expect((await h.broker.requests.openBreakGlass(outsider, { limit: 200 })).toReview).toEqual([]);

    await end(me, grant.id);
    const reviewed = await h.broker.requests.reviewBreakGlass(approverB, {
      requestId: request.id,
      verdict: "unjustified",
      comment: "should have paged first",
    });
    expect(reviewed.review).toMatchObject({ reviewerId: approverB.id, verdict: "unjustified" });
    const events = await h.deps.store.read((r) =>
      r.audit.list({ afterSeq: 0, limit: 1000, subjectId: request.id }),
    );
    expect(events.at(-1)).toMatchObject({
      actor: approverB.id,
      action: "request.break_glass_reviewed",
      data: {
        verdict: "unjustified",
        comment: "should have paged first",
        policies: ["target/prod-admin/approvers"],
      },
    });
    await expect(justify(approverA, request.id)).rejects.toThrow(
      /already marked unjustified by bob@example.com/,
    );
    const after = await h.broker.requests.openBreakGlass(approverB, { limit: 200 });
    expect(after.toReview.map((i) => i.request.id)).not.toContain(request.id);
    expect((await h.broker.requests.openBreakGlass(me, { limit: 200 })).mine).toBeNull();
    await expect(breakGlass(me)).resolves.toMatchObject({ request: { breakGlass: true } });
  });

  it("refuses to review what is not a break-glass", async () => {
    const me = onCall();
    const { request } = await h.broker.requests.create(me, {
      targetId: target.id,
      reason,
      durationSeconds: 3600,
    });
    await expect(justify(approverA, request.id)).rejects.toThrow(/there is no such break-glass/);
  });
});
