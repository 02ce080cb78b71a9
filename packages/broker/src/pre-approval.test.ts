import {
  ConflictError,
  ForbiddenError,
  InvalidRequestError,
  NotFoundError,
  readAuditEvent,
  type Target,
} from "@leasehold/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  admin,
  approverA,
  approverB,
  createHarness,
  type Harness,
  outsider,
  person,
  prodTarget,
  requester,
  willing,
} from "./test-harness.js";

/*
 * Pre-approval windows on real PostgreSQL: who may make one (the target's approvers, never for
 * themselves), that the repository's activeFor (the auto-approval's question) finds a window only
 * inside it and not after it is revoked, who may revoke and see one, and the audit trail of each change.
 */

const hour = 3600;
const inHours = (h: Harness, n: number) => new Date(h.clock.now.getTime() + n * hour * 1000);
/** An approver who is also an engineer: listed among the target's requesters and its approvers. */
const sreEngineer = person("erin@example.com", ["sre", "engineering"]);

/** prod-readonly as it would be with one approval per request: windows stand for one approver. */
const target: Target = { ...prodTarget, id: "prod-single", requiredApprovals: 1 };

describe("pre-approval windows", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("postgres", willing, { targets: [target, prodTarget] });
  });
  afterAll(async () => {
    await h.close();
  });

  const trail = async () => h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 10_000 }));
  const rows = () => h.deps.store.read((r) => r.preApprovals.list({ limit: 1000 }));
  const activeFor = (principalId: string, at: Date) =>
    h.deps.store.read((r) => r.preApprovals.activeFor(principalId, target.id, at));
  const tonight = (overrides: { principalId?: string; startsIn?: number; hours?: number } = {}) => ({
    principalId: overrides.principalId ?? requester.id,
    targetId: target.id,
    startsAt: inHours(h, overrides.startsIn ?? 10),
    endsAt: inHours(h, (overrides.startsIn ?? 10) + (overrides.hours ?? 6)),
    reason: "maintenance night CHG-7",
  });

  it("refuses a window on a target that needs two approvals per request", async () => {
    await expect(
      h.broker.preApprovals.create(approverA, { ...tonight(), targetId: prodTarget.id }),
    ).rejects.toThrow(/needs 2 approvals per request/);
  });

  it("an approver creates a window that covers the person only inside it, until it is revoked", async () => {
    const before = (await trail()).length;
    const created = await h.broker.preApprovals.create(approverA, tonight());
    expect(created).toMatchObject({
      principalId: requester.id,
      approverId: approverA.id,
      targetId: target.id,
      revokedAt: null,
    });
    expect(await activeFor(requester.id, inHours(h, 9))).toBeUndefined();
    expect(await activeFor(requester.id, inHours(h, 10))).toEqual(created);
    expect(await activeFor(requester.id, inHours(h, 15.9))).toEqual(created);
    expect(await activeFor(requester.id, inHours(h, 16))).toBeUndefined();
    expect(await activeFor(outsider.id, inHours(h, 12))).toBeUndefined();

    const [event] = (await trail()).slice(before).map(readAuditEvent);
    expect(event).toMatchObject({
      actor: approverA.id,
      action: "preapproval.created",
      subjectType: "preapproval",
      subjectId: created.id,
      data: {
        targetId: target.id,
        principalId: requester.id,
        startsAt: created.startsAt.toISOString(),
        endsAt: created.endsAt.toISOString(),
        reason: "maintenance night CHG-7",
        policies: [expect.stringContaining(target.id)],
      },
    });

    h.clock.advance(11 * hour);
    const revoked = await h.broker.preApprovals.revoke(approverA, created.id);
    expect(revoked).toMatchObject({ revokedAt: h.clock.now, revokedBy: approverA.id });
    expect(await activeFor(requester.id, inHours(h, 1))).toBeUndefined();
    const last = (await trail()).at(-1);
    expect(last && readAuditEvent(last)).toMatchObject({
      actor: approverA.id,
      action: "preapproval.revoked",
      subjectId: created.id,
      data: { targetId: target.id, principalId: requester.id },
    });
    await expect(h.broker.preApprovals.revoke(approverA, created.id)).rejects.toThrow(ConflictError);
  });

  it("refuses a non-approver and the person themself, and records nothing", async () => {
    const [beforeTrail, beforeRows] = [(await trail()).length, (await rows()).length];
    await expect(h.broker.preApprovals.create(outsider, tonight())).rejects.toThrow(
      /you may not approve dev@example.com's requests for prod-single/,
    );
    await expect(h.broker.preApprovals.create(outsider, tonight())).rejects.toThrow(ForbiddenError);
    // An approver (and requester) of the target may not pre-approve themselves, whatever a policy says.
    await expect(
      h.broker.preApprovals.create(sreEngineer, tonight({ principalId: "Erin@Example.com" })),
    ).rejects.toThrow(/cannot pre-approve yourself/);
    await expect(
      h.broker.preApprovals.create(approverA, { ...tonight(), targetId: "no-such-target" }),
    ).rejects.toThrow(NotFoundError);
    await expect(
      h.broker.preApprovals.create(approverA, tonight({ startsIn: -8, hours: 2 })),
    ).rejects.toThrow(InvalidRequestError);
    await expect(
      h.broker.preApprovals.create(approverA, tonight({ startsIn: 31 * 24, hours: 2 })),
    ).rejects.toThrow(/30 days/);
    expect((await trail()).length).toBe(beforeTrail);
    expect((await rows()).length).toBe(beforeRows);
  });

  it("starts a window whose start has passed now", async () => {
    const created = await h.broker.preApprovals.create(approverA, tonight({ startsIn: -1, hours: 3 }));
    expect(created.startsAt).toEqual(h.clock.now);
    expect(await activeFor(requester.id, h.clock.now)).toEqual(created);
    await h.broker.preApprovals.revoke(admin, created.id);
  });

  it("lets its maker and the admins revoke it; another approver is refused, others do not see it", async () => {
    const created = await h.broker.preApprovals.create(approverA, tonight());
    await expect(h.broker.preApprovals.revoke(approverB, created.id)).rejects.toThrow(ForbiddenError);
    await expect(h.broker.preApprovals.revoke(outsider, created.id)).rejects.toThrow(NotFoundError);
    await expect(h.broker.preApprovals.revoke(requester, created.id)).rejects.toThrow(ForbiddenError);
    expect(await activeFor(requester.id, inHours(h, 12))).toEqual(created);
    const revoked = await h.broker.preApprovals.revoke(admin, created.id);
    expect(revoked.revokedBy).toBe(admin.id);
    expect(await activeFor(requester.id, inHours(h, 12))).toBeUndefined();
  });

  it("lists to approvers and admins every window, to the person only their own, to others nothing", async () => {
    const mine = await h.broker.preApprovals.create(approverA, tonight({ startsIn: 30 }));
    const carls = await h.broker.preApprovals.create(approverB, tonight({ principalId: "carl@example.com" }));
    const ids = async (who: typeof admin, current = true) =>
      (await h.broker.preApprovals.list(who, { current, limit: 50 })).map((p) => p.id);
    expect(await ids(approverB)).toEqual([mine.id, carls.id]);
    expect(await ids(admin)).toEqual([mine.id, carls.id]);
    expect(await ids(requester)).toEqual([mine.id]);
    expect(await ids(outsider)).toEqual([]);
    // Without `current`, revoked and ended windows are listed too.
    expect((await ids(requester, false)).length).toBeGreaterThan(1);
    const byCarl = await h.broker.preApprovals.list(approverA, {
      principalId: "carl@example.com",
      current: true,
      limit: 50,
    });
    expect(byCarl.map((p) => p.id)).toEqual([carls.id]);
  });
});
