import {
  type AccessReportInput,
  accessReportInput,
  ConflictError,
  ForbiddenError,
  type Principal,
  readAuditEvent,
  type Target,
  type TypedAuditEvent,
} from "@leasehold/domain";
import { policyEngineFor } from "@leasehold/policy";
import { awsRoleTargetSchema } from "@leasehold/providers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createReportService } from "./report-service.js";
import {
  admin,
  approve,
  approverA,
  approverB,
  createHarness,
  HARNESS_ADMINS,
  type Harness,
  outsider,
  person,
  prodTarget,
  ROLE_ARN,
  requester,
  willing,
} from "./test-harness.js";

/*
 * Access reports on real PostgreSQL, over a scripted history: a request approved by two, issued, its
 * credential read twice, revoked by an admin; a break-glass reviewed afterwards; a workload's lease;
 * a request auto-approved inside a pre-approval window. Each row is checked against the audit trail.
 */

const breakGlassTarget = awsRoleTargetSchema.parse({
  id: "prod-admin",
  kind: "aws-role",
  requesters: { groups: ["engineering"] },
  approvers: { groups: ["sre"] },
  maxDuration: "4h",
  defaultDuration: "2h",
  breakGlass: { allowed: { groups: ["oncall"] }, maxDuration: "30m" },
  aws: { roleArn: ROLE_ARN },
});
/** One approval per request, so a pre-approval window can auto-approve; two people named directly. */
const singleTarget: Target = {
  ...prodTarget,
  id: "prod-single",
  requiredApprovals: 1,
  requesters: { users: [requester.id, "dormant@example.com"], groups: [] },
};
const leaseTarget = awsRoleTargetSchema.parse({
  id: "batch",
  kind: "aws-role",
  maxDuration: "1h",
  leases: [{ provider: "k8s", subject: "batch-*", maxTtl: "1h" }],
  aws: { roleArn: ROLE_ARN },
});
const targets = [prodTarget, breakGlassTarget, singleTarget, leaseTarget];

const onCall = person("oncall@example.com", ["engineering", "oncall"]);
const auditor = person("auditor@example.com", ["finance"]);
const workload: Principal = {
  id: "k8s:batch-nightly",
  kind: "workload",
  provider: "k8s",
  subject: "batch-nightly",
  groups: [],
  claims: {},
};
const notLast = { isLast: false };
const TRICKY_REASON = '=HYPERLINK("http://x", "click"), then, "more"';

/** The report service as main.ts wires it, with leasehold.yaml naming an auditor. */
const reportsFor = (h: Harness) =>
  createReportService({
    ...h.deps,
    policy: policyEngineFor({
      targets,
      admins: HARNESS_ADMINS,
      auditors: { users: [auditor.id], groups: [] },
    }),
  });

async function scriptHistory(h: Harness) {
  const step = () => h.clock.advance(60);
  const { request } = await h.broker.requests.create(requester, {
    targetId: prodTarget.id,
    reason: TRICKY_REASON,
    ticket: "OPS-7",
    durationSeconds: 3600,
  });
  step();
  await approve(h.broker, approverA, request.id);
  step();
  const { grant } = await approve(h.broker, approverB, request.id);
  if (!grant) throw new Error("expected a grant");
  step();
  expect(await h.broker.grants.issue(grant.id, notLast)).toBe("issued");
  step();
  await h.broker.grants.credentials(requester, grant.id);
  step();
  await h.broker.grants.credentials(requester, grant.id);
  step();
  await h.broker.grants.revoke(admin, { grantId: grant.id });
  step();
  expect(await h.broker.grants.finishRevoke(grant.id, notLast)).toBe("revoked");
  step();

  const glass = await h.broker.requests.breakGlass(onCall, {
    targetId: breakGlassTarget.id,
    reason: "orders API is down",
    ticket: "INC-9",
  });
  step();
  expect(await h.broker.grants.issue(glass.grant.id, notLast)).toBe("issued");
  step();
  await h.broker.requests.reviewBreakGlass(approverA, { requestId: glass.request.id, verdict: "justified" });
  step();

  const lease = await h.broker.leases.create(workload, { targetId: leaseTarget.id, ttlSeconds: 1800 });
  step();

  await h.broker.preApprovals.create(approverA, {
    principalId: requester.id,
    targetId: singleTarget.id,
    endsAt: new Date(h.clock.now.getTime() + 4 * 3600_000),
    reason: "maintenance night CHG-7",
  });
  step();
  const auto = await h.broker.requests.create(requester, {
    targetId: singleTarget.id,
    reason: "run the migration",
    ticket: "CHG-7",
    durationSeconds: 1800,
  });
  expect(auto.autoApproval?.outcome).toBe("approved");
  step();
  // The grant auto-approval created, found where the report finds it: the audit trail.
  const events = await h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 10_000 }));
  const autoGrantId = events.find(
    (e) => e.action === "grant.created" && e.data.requestId === auto.request.id,
  )?.subjectId;
  return { request, grant, glass, lease: lease.grant, autoGrantId };
}

describe("access reports", () => {
  let h: Harness;
  let history: Awaited<ReturnType<typeof scriptHistory>>;
  let trail: TypedAuditEvent[];
  let start: Date;
  beforeAll(async () => {
    h = await createHarness("postgres", willing, { targets });
    start = h.clock.now;
    history = await scriptHistory(h);
    const events = await h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 10_000 }));
    trail = events.map(readAuditEvent).filter((e): e is TypedAuditEvent => e !== undefined);
  });
  afterAll(async () => {
    await h.close();
  });

  const input = (over: Record<string, unknown> = {}): AccessReportInput =>
    accessReportInput.parse({
      from: new Date(start.getTime() - 1000).toISOString(),
      to: h.clock.now.toISOString(),
      ...over,
    });
  const at = (action: string, subjectId: string) =>
    trail.filter((e) => e.action === action && e.subjectId === subjectId).map((e) => e.at.toISOString());

  it("reports each grant as the audit trail records it", async () => {
    const report = await reportsFor(h).access(admin, input());
    expect(report.truncated).toBe(false);
    expect(report.rows.map((r) => r.kind)).toEqual(["request", "break-glass", "lease", "auto-approved"]);
    const [revoked, glass, lease, auto] = report.rows;
    const g = history.grant.id;
    expect(revoked).toEqual({
      grantId: g,
      requestId: history.request.id,
      holder: requester.id,
      targetId: prodTarget.id,
      kind: "request",
      requestedAt: at("request.created", history.request.id)[0],
      approvedBy: [approverA.id, approverB.id],
      ticket: "OPS-7",
      reason: TRICKY_REASON,
      issuedAt: at("grant.issued", g)[0],
      expiresAt: expect.any(String),
      endedAt: at("grant.revoked", g)[0],
      ending: "revoked",
      revokedBy: admin.id,
      breakGlassReview: null,
      credentialReads: { count: 2, times: at("grant.credentials_read", g) },
    });
    expect(at("grant.credentials_read", g)).toHaveLength(2);
    expect(glass).toMatchObject({
      holder: onCall.id,
      targetId: breakGlassTarget.id,
      approvedBy: [],
      ticket: "INC-9",
      ending: "active",
      breakGlassReview: {
        verdict: "justified",
        by: approverA.id,
        at: at("request.break_glass_reviewed", history.glass.request.id)[0],
      },
    });
    expect(lease).toMatchObject({
      holder: workload.id,
      requestId: null,
      targetId: leaseTarget.id,
      ending: "active",
      // The lease's own delivery is a read like any other.
      credentialReads: { count: 1, times: at("grant.credentials_read", history.lease.id) },
    });
    expect(auto).toMatchObject({
      grantId: history.autoGrantId,
      holder: requester.id,
      approvedBy: ["policy:builtin/pre-approved"],
      ticket: "CHG-7",
      ending: "issuing",
    });
  });

  it("filters by person, target and kind, and by the range", async () => {
    const reports = reportsFor(h);
    const ids = async (over: Record<string, unknown>) =>
      (await reports.access(admin, input(over))).rows.map((r) => r.grantId);
    expect(await ids({ principalId: requester.id })).toEqual([history.grant.id, history.autoGrantId]);
    expect(await ids({ targetId: breakGlassTarget.id })).toEqual([history.glass.grant.id]);
    expect(await ids({ kind: "lease" })).toEqual([history.lease.id]);
    expect(await ids({ kind: "auto-approved", principalId: onCall.id })).toEqual([]);
    // From just after the revocation: the revoked grant had ended, the others had not.
    const revokedAt = at("grant.revoked", history.grant.id)[0] ?? "";
    const after = new Date(new Date(revokedAt).getTime() + 1000).toISOString();
    expect(await ids({ from: after })).not.toContain(history.grant.id);
    expect(await ids({ from: after })).toHaveLength(3);
    // Up to before the break-glass: it is not there yet, and the first grant is still active then.
    const before = await reports.access(admin, input({ to: after }));
    expect(before.rows.map((r) => r.grantId)).toEqual([history.grant.id]);
    expect((await reports.access(admin, input({ limit: 2 }))).truncated).toBe(true);
  });

  it("refuses people who are neither admins nor auditors, and lets an auditor read", async () => {
    const reports = reportsFor(h);
    await expect(reports.access(outsider, input())).rejects.toThrow(ForbiddenError);
    await expect(reports.access(requester, input())).rejects.toThrow(ForbiddenError);
    await expect(reports.standing(approverA)).rejects.toThrow(ForbiddenError);
    expect((await reports.access(auditor, input())).rows).toHaveLength(4);
    // The harness's engine names no auditors: the auditors policy is what let them in.
    await expect(h.broker.reports.access(auditor, input())).rejects.toThrow(ForbiddenError);
  });

  it("standing access: live grants, and named people with no grant of an eligible target", async () => {
    const standing = await reportsFor(h).standing(auditor);
    expect(standing.active.map((r) => r.grantId).sort()).toEqual(
      [history.glass.grant.id, history.lease.id, history.autoGrantId].sort(),
    );
    // dev@example.com used prod-single; dormant@example.com never did.
    expect(standing.unused).toEqual([{ targetId: singleTarget.id, principalId: "dormant@example.com" }]);
    expect(standing.eligibleGroups).toEqual(
      expect.arrayContaining([
        { targetId: prodTarget.id, groups: ["engineering", "sre"] },
        { targetId: breakGlassTarget.id, groups: ["engineering"] },
      ]),
    );
    expect(standing.truncated).toBe(false);
  });
});

describe("access reports on a tampered trail", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("postgres", willing, { targets });
    await scriptHistory(h);
  });
  afterAll(async () => {
    await h.close();
  });

  it("are refused, naming the event, when the chain does not verify", async () => {
    const from = new Date(h.clock.now.getTime() - 86_400_000).toISOString();
    const report = accessReportInput.parse({ from, to: h.clock.now.toISOString() });
    expect((await h.broker.reports.access(admin, report)).rows).toHaveLength(4);
    // A database writer rewrites who revoked the first grant.
    await h.db.transaction(async (tx) => {
      await tx.query("ALTER TABLE audit_events DISABLE TRIGGER USER");
      await tx.query(
        "UPDATE audit_events SET actor = 'someone@example.com' WHERE action = 'grant.revoke_requested'",
      );
      await tx.query("ALTER TABLE audit_events ENABLE TRIGGER USER");
    });
    const refused = h.broker.reports.access(admin, report);
    await expect(refused).rejects.toThrow(ConflictError);
    await expect(refused).rejects.toThrow(/does not verify \(event \d+: its contents do not match/);
    await expect(h.broker.reports.standing(admin)).rejects.toThrow(/does not verify/);
  });
});
