import { type Principal, type Target, targetSchemaFor } from "@leasehold/domain";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createPolicyEngine, type RequestDetails } from "./engine.js";
import { PolicyLoadError } from "./policy-set.js";
import { translateConfig } from "./translate.js";

const targetSchema = targetSchemaFor({
  kind: "session",
  settingsKey: "session",
  settings: z.object({}).strict(),
  durationLimits: { minSeconds: 900, maxSeconds: 43_200 },
});

const prodInput = {
  id: "prod",
  kind: "session",
  session: {},
  environment: "prod",
  tags: { team: "payments" },
  maxDuration: "4h",
  requesters: { groups: ["eng"] },
  approvers: { users: ["lead@example.com"], groups: ['sre "on call"'] },
  breakGlass: { allowed: { groups: ["sre"] } },
  escalateAfter: "30m",
  escalation: [{ approvers: { groups: ["sre-leads"] } }, { approvers: { users: ["cto@example.com"] } }],
  leases: [
    { provider: "ci", subject: "repo:acme/*", claims: { ref: "refs/heads/main" }, maxTtl: "1h" },
    { provider: "ci", subject: "exact", maxTtl: "1h" },
  ],
};
const prod: Target = targetSchema.parse(prodInput);

const person = (id: string, groups: string[] = []): Principal => ({
  id,
  kind: "human",
  provider: "okta",
  subject: id,
  groups,
});
const workload = (subject: string, claims: Record<string, string>): Principal => ({
  id: `ci:${subject}`,
  kind: "workload",
  provider: "ci",
  subject,
  groups: [],
  claims,
});

const details: RequestDetails = { durationSeconds: 3600, ticket: "", reason: "deploy", scopes: [] };
const now = new Date("2026-12-07T10:30:00Z");
const yaml = translateConfig({ targets: [prod], admins: { users: ["boss@example.com"], groups: [] } });
const resource = { type: "Target", target: prod } as const;
const asking = { request: details, onCall: false, incidents: [] };

describe("leasehold.yaml's lists as Cedar", () => {
  const engine = createPolicyEngine([yaml]);

  it("lets requesters request, names the policy, and refuses anyone else", () => {
    const allowed = engine.decide({
      action: "Request",
      principal: person("dev@example.com", ["eng"]),
      resource,
      context: asking,
      now,
    });
    expect(allowed).toEqual({ allowed: true, policies: ["target/prod/requesters"], advice: [] });
    const refused = engine.decide({
      action: "Request",
      principal: person("guest@example.com", ["sales"]),
      resource,
      context: asking,
      now,
    });
    expect(refused).toEqual({ allowed: false, policies: [], advice: [] });
  });

  it("matches approvers by id or by a group whose name needs escaping", () => {
    const approve = (p: Principal) =>
      engine.decide({
        action: "Approve",
        principal: p,
        resource,
        context: { request: details, requester: "dev@example.com", approvals: [], escalationLevel: 0 },
        now,
      }).allowed;
    expect(approve(person("lead@example.com"))).toBe(true);
    expect(approve(person("x@example.com", ['sre "on call"']))).toBe(true);
    expect(approve(person("x@example.com", ["sre"]))).toBe(false);
  });

  it("translates lease rules: provider, exact or prefix subject, and claims as tags", () => {
    const lease = (p: Principal) =>
      engine.decide({ action: "Lease", principal: p, resource, context: { ttlSeconds: 600 }, now });
    expect(lease(workload("repo:acme/api", { ref: "refs/heads/main" }))).toMatchObject({
      allowed: true,
      policies: ["target/prod/leases/0"],
    });
    expect(lease(workload("repo:acme/api", { ref: "refs/heads/dev" })).allowed).toBe(false);
    expect(lease(workload("repo:acme/api", {})).allowed).toBe(false);
    expect(lease(workload("exact", {})).policies).toEqual(["target/prod/leases/1"]);
    expect(lease(workload("exactly", {})).allowed).toBe(false);
  });

  it("adds each escalation level's approvers once the request reaches it, keeping the earlier ones", () => {
    const at = (p: Principal, escalationLevel: number) =>
      engine.decide({
        action: "Approve",
        principal: p,
        resource,
        context: { request: details, requester: "dev@example.com", approvals: [], escalationLevel },
        now,
      });
    const levels = (p: Principal) => [0, 1, 2, 9].map((level) => at(p, level).allowed);
    expect(levels(person("lead@example.com"))).toEqual([true, true, true, true]);
    expect(levels(person("x@example.com", ["sre-leads"]))).toEqual([false, true, true, true]);
    expect(levels(person("cto@example.com"))).toEqual([false, false, true, true]);
    expect(at(person("cto@example.com"), 2).policies).toEqual(["target/prod/escalation/2"]);
  });

  it.each([
    ["another subject", workload("repo:other/api", { ref: "refs/heads/main" })],
    [
      "another identity provider",
      { ...workload("repo:acme/api", { ref: "refs/heads/main" }), provider: "gh" },
    ],
    ["a person", { ...workload("repo:acme/api", { ref: "refs/heads/main" }), kind: "human" as const }],
  ])("refuses a lease to %s", (_, principal) => {
    expect(
      engine.decide({ action: "Lease", principal, resource, context: { ttlSeconds: 600 }, now }).allowed,
    ).toBe(false);
  });

  it("never lets a workload request, even in a requester group", () => {
    const ci = { ...workload("repo:acme/api", {}), groups: ["eng"] };
    expect(engine.decide({ action: "Request", principal: ci, resource, context: asking, now }).allowed).toBe(
      false,
    );
  });

  it("answers the same question alike within a second, and never mixes up who asks", () => {
    const ask = (groups: string[], at: Date) =>
      engine.decide({
        action: "Request",
        principal: person("dev@example.com", groups),
        resource,
        context: asking,
        now: at,
      }).allowed;
    const early = new Date("2026-12-07T10:30:00.100Z");
    const late = new Date("2026-12-07T10:30:00.900Z");
    expect([ask(["eng"], early), ask(["eng"], late)]).toEqual([true, true]);
    // The same person without the group, in the same second: asked afresh, and refused.
    expect(ask([], late)).toBe(false);
    expect(ask(["eng"], late)).toBe(true);
  });

  it("lets admins read the audit trail and nobody else", () => {
    const read = (p: Principal) =>
      engine.decide({ action: "ReadAudit", principal: p, resource: { type: "AuditTrail" }, context: {}, now })
        .allowed;
    expect(read(person("boss@example.com"))).toBe(true);
    expect(read(person("lead@example.com"))).toBe(false);
  });

  it("lets auditors read the audit trail, by auditors/read-audit, and change nothing", () => {
    const withAuditors = createPolicyEngine([
      translateConfig({
        targets: [prod],
        admins: { users: ["boss@example.com"], groups: [] },
        auditors: { users: [], groups: ["audit"] },
      }),
    ]);
    const auditor = person("ann@example.com", ["audit"]);
    const read = withAuditors.decide({
      action: "ReadAudit",
      principal: auditor,
      resource: { type: "AuditTrail" },
      context: {},
      now,
    });
    expect(read).toMatchObject({ allowed: true, policies: ["auditors/read-audit"] });
    const rotate = withAuditors.decide({
      action: "Rotate",
      principal: auditor,
      resource: { type: "Rotation", id: "db" },
      context: {},
      now,
    });
    expect(rotate.allowed).toBe(false);
    const revoke = withAuditors.decide({
      action: "Revoke",
      principal: auditor,
      resource: { type: "Target", target: prod },
      context: { holder: false },
      now,
    });
    expect(revoke.allowed).toBe(false);
  });
});

describe("policy files beside leasehold.yaml", () => {
  it("a forbid with @advice refuses and says why", () => {
    const engine = createPolicyEngine([
      yaml,
      {
        file: "hours.cedar",
        text: `@id("office-hours")
@advice("prod is requested on weekdays only; use break-glass in an emergency")
forbid (principal, action == Leasehold::Action::"Request", resource)
when { resource.environment == "prod" && context.weekday > 5 };
`,
      },
    ]);
    const dev = person("dev@example.com", ["eng"]);
    const saturday = new Date("2026-12-05T10:00:00Z");
    expect(
      engine.decide({ action: "Request", principal: dev, resource, context: asking, now: saturday }),
    ).toEqual({
      allowed: false,
      policies: ["office-hours"],
      advice: ["prod is requested on weekdays only; use break-glass in an emergency"],
    });
    expect(engine.decide({ action: "Request", principal: dev, resource, context: asking, now }).allowed).toBe(
      true,
    );
  });

  it("fails closed when a forbid cannot be evaluated (validation passes; the arithmetic overflows)", () => {
    const engine = createPolicyEngine([
      yaml,
      {
        file: "long.cedar",
        text: `@id("too-long")
forbid (principal, action == Leasehold::Action::"Request", resource)
when { context.request.durationSeconds * 9223372036854775807 > 86400 };
`,
      },
    ]);
    const decision = engine.decide({
      action: "Request",
      principal: person("dev@example.com", ["eng"]),
      resource,
      context: asking,
      now,
    });
    expect(decision.allowed).toBe(false);
    expect(decision.policies).toEqual(["too-long"]);
    expect(decision.advice[0]).toMatch(/could not be evaluated/);
  });

  it.each([
    [
      "a syntax error",
      `permit (principal, action, resource) when { 1 + };`,
      /bad\.cedar:1:\d+: .*unexpected token/,
    ],
    [
      "an attribute the action's context does not have",
      `permit (principal, action == Leasehold::Action::"Request", resource)\nwhen { context.ticketNumber == "1" };`,
      /bad\.cedar:2:\d+: .*ticketNumber.*not found/,
    ],
    [
      "an unknown entity type",
      `permit (principal is Leasehold::Robot, action, resource);`,
      /bad\.cedar:1:\d+: .*Robot/,
    ],
  ])("refuses %s with file, line and column", (_, text, message) => {
    let error: unknown;
    try {
      createPolicyEngine([{ file: "bad.cedar", text }]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PolicyLoadError);
    expect((error as PolicyLoadError).problems.join("\n")).toMatch(message);
  });

  it("refuses two policies with one @id", () => {
    const text = `@id("same")\npermit (principal, action == Leasehold::Action::"Rotate", resource);\n`;
    expect(() =>
      createPolicyEngine([
        { file: "a.cedar", text },
        { file: "b.cedar", text },
      ]),
    ).toThrow(/b\.cedar:1: policy id "same" is already used at a\.cedar:1/);
  });

  it("decides each target with its own policies and the unpinned ones (the slice gives Cedar's answer)", () => {
    const staging: Target = targetSchema.parse({ ...prodInput, id: "staging", environment: "staging" });
    const engine = createPolicyEngine([
      translateConfig({ targets: [prod, staging], admins: { users: [], groups: [] } }),
      {
        file: "pins.cedar",
        text: `@id("no-prod")
forbid (principal, action == Leasehold::Action::"Request", resource == Leasehold::Target::"prod");
@id("staging-weekends")
forbid (principal, action == Leasehold::Action::"Request", resource)
when { resource.environment == "staging" && context.weekday > 5 };
`,
      },
    ]);
    const dev = person("dev@example.com", ["eng"]);
    const ask = (target: Target, at: Date) =>
      engine.decide({
        action: "Request",
        principal: dev,
        resource: { type: "Target", target },
        context: asking,
        now: at,
      });
    expect(ask(prod, now).policies).toEqual(["no-prod"]);
    expect(ask(staging, now)).toMatchObject({ allowed: true, policies: ["target/staging/requesters"] });
    expect(ask(staging, new Date("2026-12-05T10:00:00Z")).policies).toEqual(["staging-weekends"]);
  });

  it("cannot be escaped by a group name that looks like Cedar", () => {
    const sneaky = targetSchema.parse({
      id: "sneaky",
      kind: "session",
      session: {},
      maxDuration: "1h",
      requesters: { groups: ['x"] || true || principal in ["y'] },
      approvers: { users: ["lead@example.com"] },
    });
    const engine = createPolicyEngine([
      translateConfig({ targets: [sneaky], admins: { users: [], groups: [] } }),
    ]);
    const decision = engine.decide({
      action: "Request",
      principal: person("anyone@example.com"),
      resource: { type: "Target", target: sneaky },
      context: asking,
      now,
    });
    expect(decision.allowed).toBe(false);
  });
});
