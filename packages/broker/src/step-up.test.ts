import { type Authentication, type Principal, StepUpRequiredError } from "@leasehold/domain";
import { awsRoleTargetSchema } from "@leasehold/providers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  approverA,
  createHarness,
  type Harness,
  person,
  prodTarget,
  ROLE_ARN,
  requester,
  willing,
} from "./test-harness.js";

/*
 * Step-up on real PostgreSQL: on a target with `stepUp`, an approval, a break-glass and a break-glass
 * review count only from a sign-in with the identity provider within `maxAge` (of class `acr` when
 * set). Anything else is refused with StepUpRequiredError before anything is recorded; a denial needs
 * no step-up; targets without `stepUp` behave as before. The audit events say how the person signed in.
 */

const MFA = "urn:leasehold:mfa";
const guarded = awsRoleTargetSchema.parse({
  id: "prod-guarded",
  kind: "aws-role",
  requesters: { groups: ["engineering"] },
  approvers: { groups: ["sre"] },
  requiredApprovals: 1,
  maxDuration: "2h",
  defaultDuration: "1h",
  stepUp: { maxAge: "5m", acr: MFA },
  breakGlass: { allowed: { groups: ["oncall"] } },
  aws: { roleArn: ROLE_ARN },
});
const plain = { ...prodTarget, requiredApprovals: 1 };

const signedIn = (who: Principal, authentication: Authentication): Principal => ({ ...who, authentication });

describe("step-up on postgres", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("postgres", willing, { targets: [guarded, plain] });
  });
  afterAll(async () => {
    await h.close();
  });

  const minutesAgo = (minutes: number) => new Date(h.clock.now.getTime() - minutes * 60_000);
  const fresh = (who: Principal) => signedIn(who, { method: "console", authTime: minutesAgo(1), acr: MFA });
  const auditCount = async () => (await h.deps.store.read((r) => r.audit.verify())).events;
  const eventsAbout = (subjectId: string) =>
    h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 100, subjectId }));
  const reviewsOf = async (requestId: string) =>
    (await h.deps.store.read((r) => r.requests.listReviews(requestId))).length;
  const ask = async (targetId: string) =>
    (await h.broker.requests.create(requester, { targetId, reason: "look at INC-42", durationSeconds: 900 }))
      .request;

  // Built when each test runs: "stale" is measured against the harness clock.
  it.each<[string, () => Principal]>([
    ["no authentication (a bearer token of old)", () => approverA],
    ["a Slack click", () => signedIn(approverA, { method: "slack" })],
    ["a token without auth_time", () => signedIn(approverA, { method: "token" })],
    ["a stale sign-in", () => signedIn(approverA, { method: "console", authTime: minutesAgo(6), acr: MFA })],
    [
      "a sign-in of the wrong class",
      () => signedIn(approverA, { method: "console", authTime: minutesAgo(1), acr: "pwd" }),
    ],
  ])("refuses an approval from %s, naming the target, and records nothing", async (_name, caller) => {
    const who = caller();
    const request = await ask(guarded.id);
    const before = await auditCount();
    const refused = h.broker.reviews.submit(who, { requestId: request.id, decision: "approve" });
    await expect(refused).rejects.toThrow(StepUpRequiredError);
    await expect(refused).rejects.toMatchObject({ code: "FORBIDDEN", targetId: guarded.id });
    expect(await auditCount()).toBe(before);
    expect(await reviewsOf(request.id)).toBe(0);
    expect((await h.broker.requests.get(requester, request.id)).request.state).toBe("pending");
    await h.broker.requests.cancel(requester, request.id);
  });

  it("says what is missing: a stale sign-in is told to sign in again, a wrong class which class", async () => {
    const request = await ask(guarded.id);
    const stale = signedIn(approverA, { method: "console", authTime: minutesAgo(6), acr: MFA });
    await expect(
      h.broker.reviews.submit(stale, { requestId: request.id, decision: "approve" }),
    ).rejects.toThrow(/within the last 5m.*sign in again/);
    const weak = signedIn(approverA, { method: "console", authTime: minutesAgo(1), acr: "pwd" });
    await expect(
      h.broker.reviews.submit(weak, { requestId: request.id, decision: "approve" }),
    ).rejects.toThrow(`this target requires a sign-in of class ${MFA}`);
    await h.broker.requests.cancel(requester, request.id);
  });

  it("approves on a fresh console sign-in of the right class and records how the approver signed in", async () => {
    const request = await ask(guarded.id);
    const approver = fresh(approverA);
    const { grant } = await h.broker.reviews.submit(approver, { requestId: request.id, decision: "approve" });
    expect(grant).not.toBeNull();
    const reviewed = (await eventsAbout(request.id)).find((e) => e.action === "request.reviewed");
    expect(reviewed).toMatchObject({
      actor: approverA.id,
      data: {
        decision: "approve",
        authentication: { method: "console", authTime: minutesAgo(1).toISOString(), acr: MFA },
      },
    });
  });

  it("refuses a non-approver as before, even with a fresh sign-in: step-up adds to policy, never replaces it", async () => {
    const request = await ask(guarded.id);
    const stranger = fresh(person("mallory@example.com", ["engineering"]));
    await expect(
      h.broker.reviews.submit(stranger, { requestId: request.id, decision: "approve" }),
    ).rejects.toThrow(/you are not an approver for prod-guarded/);
    await h.broker.requests.cancel(requester, request.id);
  });

  it("lets an approver deny without a fresh sign-in, recording the Slack click as such", async () => {
    const request = await ask(guarded.id);
    const clicker = signedIn(approverA, { method: "slack" });
    const result = await h.broker.reviews.submit(clicker, {
      requestId: request.id,
      decision: "deny",
      comment: "not during the freeze",
    });
    expect(result.request.state).toBe("denied");
    const reviewed = (await eventsAbout(request.id)).find((e) => e.action === "request.reviewed");
    expect(reviewed?.data).toMatchObject({
      decision: "deny",
      authentication: { method: "slack", authTime: null, acr: null },
    });
  });

  it("leaves targets without stepUp as they were: a bare token approves, recorded as a token", async () => {
    const request = await ask(plain.id);
    const { grant } = await h.broker.reviews.submit(approverA, {
      requestId: request.id,
      decision: "approve",
    });
    expect(grant).not.toBeNull();
    const reviewed = (await eventsAbout(request.id)).find((e) => e.action === "request.reviewed");
    expect(reviewed?.data).toMatchObject({ authentication: { method: "token", authTime: null, acr: null } });
  });

  it("refuses a break-glass without step-up and records nothing; a fresh sign-in breaks glass, recorded", async () => {
    const oncall = person("oncall-1@example.com", ["engineering", "oncall"]);
    const before = await auditCount();
    const refused = h.broker.requests.breakGlass(signedIn(oncall, { method: "slack" }), {
      targetId: guarded.id,
      reason: "orders API is down, INC-7",
    });
    await expect(refused).rejects.toMatchObject({ name: "StepUpRequiredError", targetId: guarded.id });
    expect(await auditCount()).toBe(before);
    const { request } = await h.broker.requests.breakGlass(fresh(oncall), {
      targetId: guarded.id,
      reason: "orders API is down, INC-7",
    });
    const activated = (await eventsAbout(request.id)).find((e) => e.action === "request.break_glass");
    expect(activated?.data).toMatchObject({ authentication: { method: "console", acr: MFA } });

    // Its review needs step-up too; a refused one records nothing and leaves it open for a fresh one.
    const mark = (who: Principal) =>
      h.broker.requests.reviewBreakGlass(who, { requestId: request.id, verdict: "justified" });
    const beforeReview = await auditCount();
    await expect(mark(signedIn(approverA, { method: "slack" }))).rejects.toThrow(StepUpRequiredError);
    expect(await auditCount()).toBe(beforeReview);
    const { review } = await mark(fresh(approverA));
    expect(review).toMatchObject({ reviewerId: approverA.id, verdict: "justified" });
    const reviewed = (await eventsAbout(request.id)).find((e) => e.action === "request.break_glass_reviewed");
    expect(reviewed?.data).toMatchObject({ authentication: { method: "console", acr: MFA } });
  });

  it("refuses a pre-approval window without step-up, recording nothing: a window approves in advance", async () => {
    const window = {
      principalId: requester.id,
      targetId: guarded.id,
      endsAt: new Date(h.clock.now.getTime() + 3600_000),
      reason: "maintenance night",
    };
    const before = await auditCount();
    await expect(
      h.broker.preApprovals.create(signedIn(approverA, { method: "slack" }), window),
    ).rejects.toMatchObject({ name: "StepUpRequiredError", targetId: guarded.id });
    expect(await auditCount()).toBe(before);
    const created = await h.broker.preApprovals.create(fresh(approverA), window);
    const [event] = await eventsAbout(created.id);
    expect(event?.data).toMatchObject({ authentication: { method: "console", acr: MFA } });
  });
});
