import { describe, expect, it } from "vitest";
import { diffAccess } from "./access-diff.js";
import { approversOf } from "./approvers.js";
import { principalUniverse } from "./policy-universe.js";
import { prod, staging, testTarget, testWorld } from "./test-policy-world.js";

const NO_STAGING_FOR_ENG = {
  file: "policies/staging.cedar",
  text: `@id("staging/no-eng")
forbid (principal in Leasehold::Group::"eng", action == Leasehold::Action::"Request", resource)
when { resource.environment == "staging" };
`,
};
const now = new Date("2026-12-02T12:00:00Z");

describe("policy diff", () => {
  const old = testWorld();

  it("finds no change between a configuration and itself", () => {
    expect(diffAccess(old, testWorld(), now)).toMatchObject({ gains: [], losses: [] });
  });

  it("shows an added approver as a gain and a new forbid as a loss, grouped by principal and action", () => {
    const prodWithNewApprover = testTarget({
      id: "prod",
      environment: "prod",
      requesters: { groups: ["eng"] },
      approvers: { users: ["lead@example.com", "new@example.com"], groups: ["sre"] },
      breakGlass: { allowed: { groups: ["sre", "eng"] } },
      escalateAfter: "30m",
      escalation: [{ approvers: { users: ["cto@example.com"] } }],
      leases: [{ provider: "ci", subject: "repo:acme/*", claims: { ref: "main" }, maxTtl: "1h" }],
    });
    const next = testWorld({ targets: [prodWithNewApprover, staging], files: [NO_STAGING_FOR_ENG] });
    const diff = diffAccess(old, next, now);
    expect(diff.gains).toEqual([
      {
        principal: "new@example.com",
        label: "new@example.com",
        actions: [
          { action: "Approve", resources: ["prod"] },
          { action: "Approve (escalated to level 1)", resources: ["prod"] },
        ],
      },
    ]);
    expect(diff.losses).toEqual([
      {
        principal: "member-of:eng",
        label: "any member of group eng",
        actions: [{ action: "Request", resources: ["staging"] }],
      },
    ]);
  });

  it("counts everything on a removed target as lost, and asks workloads about leases", () => {
    const diff = diffAccess(old, testWorld({ targets: [staging] }), now);
    const workload = diff.losses.find((c) => c.principal === "ci:repo:acme/* {ref=main}");
    expect(workload?.actions).toEqual([{ action: "Lease", resources: ["prod"] }]);
    expect(diff.losses.find((c) => c.principal === "member-of:eng")?.actions).toEqual([
      { action: "Request", resources: ["prod"] },
      { action: "BreakGlass", resources: ["prod"] },
      // builtin/pre-approved: anyone an approver pre-approved for the target.
      { action: "AutoApprove (pre-approved)", resources: ["prod"] },
    ]);
    expect(diff.gains).toEqual([]);
  });

  it("takes its universe from the lists, the Slack mapping and the policy files", () => {
    const world = testWorld({
      files: [
        NO_STAGING_FOR_ENG,
        {
          file: "p.cedar",
          text: `forbid (principal == Leasehold::Person::"x@example.com", action, resource);`,
        },
      ],
      slack: { users: { U1: "slacker@example.com" }, groups: { oncall: ["pager@example.com"] } },
    });
    expect(principalUniverse([world]).map((p) => p.key)).toEqual([
      "ci:repo:acme/* {ref=main}",
      "cto@example.com",
      "lead@example.com",
      "member-of:eng",
      "member-of:oncall",
      "member-of:security",
      "member-of:sre",
      "pager@example.com",
      "slacker@example.com",
      "x@example.com",
    ]);
  });
});

describe("leasehold approvers", () => {
  it("lists people and groups that could approve now, and who joins at each escalation level", () => {
    const world = testWorld({ slack: { users: {}, groups: { sre: ["pat@example.com"] } } });
    const result = approversOf(world, "prod", now);
    expect(result?.requiredApprovals).toBe(prod.requiredApprovals);
    expect(result?.levels).toEqual([
      {
        level: 0,
        people: [
          { id: "lead@example.com", policies: ["target/prod/approvers"] },
          // In sre through slack.groups: how pat acts through Slack.
          { id: "pat@example.com", policies: ["target/prod/approvers"] },
        ],
        groups: [{ id: "sre", policies: ["target/prod/approvers"] }],
      },
      {
        level: 1,
        people: [
          { id: "cto@example.com", policies: ["target/prod/escalation/1"] },
          { id: "lead@example.com", policies: ["target/prod/approvers"] },
          { id: "pat@example.com", policies: ["target/prod/approvers"] },
        ],
        groups: [{ id: "sre", policies: ["target/prod/approvers"] }],
      },
    ]);
    expect(approversOf(world, "nope", now)).toBeUndefined();
  });
});
