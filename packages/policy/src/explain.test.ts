import type { Principal } from "@leasehold/domain";
import { describe, expect, it } from "vitest";
import type { PolicyQuery } from "./engine.js";
import { explainQuery } from "./explain.js";
import type { Action } from "./schema.js";
import { prod, testWorld } from "./test-policy-world.js";

const FILE = {
  file: "policies/rules.cedar",
  text: `@id("cap/prod")
@advice("ask for 2h at most")
forbid (principal, action in [Leasehold::Action::"Request", Leasehold::Action::"BreakGlass"], resource)
when { context.request.durationSeconds > 7200 };

@id("overflow/afternoon")
forbid (principal, action == Leasehold::Action::"Request", resource)
when { context.hour * 9223372036854775807 > 0 };

@id("any-action/never")
forbid (principal, action, resource) when { principal.provider == "blocked" };

@id("audit/auditors")
permit (principal in Leasehold::Group::"auditors", action == Leasehold::Action::"ReadAudit", resource);
`,
};
const world = testWorld({ files: [FILE] });
const dev: Principal = {
  id: "dev@example.com",
  kind: "human",
  provider: "corp",
  subject: "dev",
  groups: ["eng"],
};
const morning = new Date("2026-12-02T00:30:00Z"); // hour 0: the overflow policy holds no error
const afternoon = new Date("2026-12-02T14:00:00Z");

const request = (durationSeconds: number, now = morning): PolicyQuery<Action> => ({
  action: "Request",
  principal: dev,
  resource: { type: "Target", target: prod },
  context: { request: { durationSeconds, ticket: "", reason: "", scopes: [] }, onCall: false, incidents: [] },
  now,
});

const verdict = (explanation: ReturnType<typeof explainQuery>, id: string) =>
  explanation.verdicts.find((v) => v.id === id);

describe("policy explain", () => {
  it("asks every policy of the action alone: permits allow iff satisfied, forbids deny iff satisfied", () => {
    const allowed = explainQuery(world.engine, request(3600));
    expect(allowed.decision).toEqual({ allowed: true, policies: ["target/prod/requesters"], advice: [] });
    expect(allowed.verdicts.map((v) => [v.id, v.satisfied, v.deciding])).toEqual([
      ["target/staging/requesters", false, false],
      ["target/prod/requesters", true, true],
      ["cap/prod", false, false],
      ["overflow/afternoon", false, false],
      ["any-action/never", false, false],
    ]);
    const capped = explainQuery(world.engine, request(4 * 3600));
    expect(capped.decision).toMatchObject({
      allowed: false,
      policies: ["cap/prod"],
      advice: ["ask for 2h at most"],
    });
    expect(verdict(capped, "cap/prod")).toMatchObject({
      effect: "forbid",
      file: "policies/rules.cedar",
      line: 1,
      advice: "ask for 2h at most",
      satisfied: true,
      deciding: true,
    });
    // The permit still holds on its own: the forbid is what refused.
    expect(verdict(capped, "target/prod/requesters")).toMatchObject({ satisfied: true, deciding: false });
  });

  it("shows a forbid whose evaluation fails as an error, and the decision fails closed on it", () => {
    const explanation = explainQuery(world.engine, request(3600, afternoon));
    expect(explanation.decision).toMatchObject({ allowed: false, policies: ["overflow/afternoon"] });
    expect(verdict(explanation, "overflow/afternoon")).toMatchObject({
      satisfied: "error",
      error: expect.stringMatching(/overflow/),
      deciding: true,
    });
  });

  it("lists only policies that can match the action", () => {
    const audit = explainQuery(world.engine, {
      action: "ReadAudit",
      principal: { ...dev, groups: ["auditors"] },
      resource: { type: "AuditTrail" },
      context: {},
      now: morning,
    });
    expect(audit.decision.allowed).toBe(true);
    expect(audit.verdicts.map((v) => v.id)).toEqual([
      "admins/read-audit",
      "any-action/never",
      "audit/auditors",
    ]);
  });

  it("names the invariant when the requester asks to approve their own request, and still shows the policies", () => {
    const self = explainQuery(world.engine, {
      action: "Approve",
      principal: { ...dev, id: "lead@example.com" },
      resource: { type: "Target", target: prod },
      context: {
        request: { durationSeconds: 3600, ticket: "", reason: "", scopes: [] },
        requester: "lead@example.com",
        approvals: [],
        escalationLevel: 0,
      },
      now: morning,
    });
    expect(self.decision.allowed).toBe(false);
    expect(self.invariant).toMatch(/requester never approves/);
    expect(verdict(self, "target/prod/approvers")).toMatchObject({ satisfied: true, deciding: false });
  });

  it("refuses an action that does not apply to the principal's kind without asking any policy", () => {
    const workload = explainQuery(world.engine, {
      ...request(3600),
      principal: {
        id: "ci:repo:acme/x",
        kind: "workload",
        provider: "ci",
        subject: "repo:acme/x",
        groups: [],
      },
    });
    expect(workload).toMatchObject({ decision: { allowed: false }, verdicts: [] });
    expect(workload.invariant).toMatch(/Request applies to Person principals only/);
  });
});
