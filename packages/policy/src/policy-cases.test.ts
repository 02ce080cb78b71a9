import { describe, expect, it } from "vitest";
import { PolicyCaseError, parsePolicyCases } from "./policy-case-schema.js";
import { caseQuery, DEFAULT_REQUESTER, runPolicyCases } from "./policy-cases.js";
import { prod, testWorld } from "./test-policy-world.js";

const WEEKEND_FORBID = {
  file: "policies/weekend.cedar",
  text: `@id("weekend/prod")
@advice("not at weekends")
forbid (principal, action == Leasehold::Action::"Request", resource)
when { resource.environment == "prod" && context.weekday >= 6 };
`,
};
const world = testWorld({ files: [WEEKEND_FORBID] });
const wednesday = new Date("2026-12-02T10:00:00Z");
const dev = { id: "dev@example.com", groups: ["eng"] };

const parseCase = (c: Record<string, unknown>) => {
  const file = parsePolicyCases([{ name: "c", expect: "allow", ...c }]);
  const first = file.cases[0];
  if (!first) throw new Error("no case");
  return first;
};

describe("policy test cases", () => {
  it("fill the action's neutral context: the target's default duration, someone else's request, level 0", () => {
    const query = caseQuery(
      parseCase({ principal: { id: "lead@example.com" }, action: "Approve", target: "prod" }),
      world,
      wednesday,
    );
    expect(query).toMatchObject({
      action: "Approve",
      principal: { id: "lead@example.com", kind: "human", groups: [] },
      resource: { type: "Target", target: { id: "prod" } },
      context: {
        request: { durationSeconds: prod.defaultDurationSeconds, ticket: "", reason: "", scopes: [] },
        requester: DEFAULT_REQUESTER,
        approvals: [],
        escalationLevel: 0,
      },
      now: wednesday,
    });
  });

  it("take overrides, durations written like 3h, and make an id with a colon a workload", () => {
    const asking = caseQuery(
      parseCase({
        principal: dev,
        action: "Request",
        target: "prod",
        context: { now: "2026-12-05T09:00:00Z", onCall: true, request: { durationSeconds: "3h" } },
      }),
      world,
      wednesday,
    );
    expect(asking.context).toMatchObject({ onCall: true, request: { durationSeconds: 10_800 } });
    expect(asking.now.toISOString()).toBe("2026-12-05T09:00:00.000Z");
    const lease = caseQuery(
      parseCase({
        principal: { id: "ci:repo:acme/api", claims: { ref: "main" } },
        action: "Lease",
        target: "prod",
      }),
      world,
      wednesday,
    );
    expect(lease.principal).toMatchObject({ kind: "workload", provider: "ci", subject: "repo:acme/api" });
  });

  it("refuse a context field the action does not have, an unknown target, and a rotation leasehold.yaml lacks", () => {
    const ask = (c: Record<string, unknown>) => () => caseQuery(parseCase(c), world, wednesday);
    expect(ask({ principal: dev, action: "Approve", target: "prod", context: { onCall: true } })).toThrow(
      /context.onCall is not part of Approve's context \(it has now, request, requester/,
    );
    expect(ask({ principal: dev, action: "Request", target: "nope" })).toThrow(/no target "nope"/);
    expect(ask({ principal: dev, action: "Rotate", target: "other" })).toThrow(/no rotation "other"/);
    expect(ask({ principal: dev, action: "ReadAudit", target: "prod" })).toThrow(/audit trail/);
  });

  it("refuse a malformed file with the path of each problem, and unbounded input", () => {
    const problems = (data: unknown) => {
      try {
        parsePolicyCases(data);
      } catch (error) {
        if (error instanceof PolicyCaseError) return error.problems;
      }
      return [];
    };
    expect(
      problems([{ name: "x", principal: dev, action: "Frob", target: "prod", expect: "allow" }]),
    ).toEqual([expect.stringMatching(/^cases\[0\]\.action: /)]);
    expect(problems({ cases: [{ name: "x", principal: dev, action: "Request", expect: "maybe" }] })).toEqual([
      expect.stringMatching(/^cases\[0\]\.expect: /),
    ]);
    expect(problems({ cases: [], extra: 1 })).toHaveLength(2);
    expect(problems([{ name: "x".repeat(201), principal: dev, action: "Request", expect: "allow" }])).toEqual(
      [expect.stringMatching(/^cases\[0\]\.name: /)],
    );
    expect(problems("just text")).toEqual([expect.stringMatching(/^\(top level\)|^cases/)]);
  });

  it("pass when decision and deciding policies match, and say what differs when not", () => {
    const file = parsePolicyCases({
      now: "2026-12-05T10:00:00Z",
      cases: [
        {
          name: "weekend",
          principal: dev,
          action: "Request",
          target: "prod",
          expect: "deny",
          policies: ["weekend/prod"],
        },
        { name: "wrong", principal: dev, action: "Request", target: "prod", expect: "allow" },
        {
          name: "weekday, other policy",
          principal: dev,
          action: "Request",
          target: "prod",
          context: { now: "2026-12-02T10:00:00Z" },
          expect: "allow",
          policies: ["target/prod/approvers"],
        },
      ],
    });
    const results = runPolicyCases(world.engine, file, world, wednesday);
    expect(results.map((r) => r.passed)).toEqual([true, false, false]);
    expect(results[0]).toMatchObject({ allowed: false, advice: ["not at weekends"], problems: [] });
    expect(results[1]?.problems).toEqual(["expected allow, got deny"]);
    expect(results[2]?.problems).toEqual([
      "expected policies [target/prod/approvers] to decide, got [target/prod/requesters]",
    ]);
  });

  it("deny a person approving their own request, whatever the lists say", () => {
    const file = parsePolicyCases([
      {
        name: "self",
        principal: { id: "lead@example.com" },
        action: "Approve",
        target: "prod",
        context: { requester: "LEAD@example.com" },
        expect: "allow",
      },
    ]);
    const [result] = runPolicyCases(world.engine, file, world, wednesday);
    expect(result).toMatchObject({
      passed: false,
      allowed: false,
      invariant: expect.stringMatching(/requester/),
    });
  });

  it("stop before any result when one case cannot be asked, naming every such case", () => {
    const file = parsePolicyCases([
      { name: "a", principal: dev, action: "Request", target: "nope", expect: "allow" },
      { name: "b", principal: dev, action: "Request", target: "prod", expect: "allow" },
      { name: "c", principal: dev, action: "Request", target: "gone", expect: "allow" },
    ]);
    expect(() => runPolicyCases(world.engine, file, world, wednesday)).toThrow(/case "a"[\s\S]*case "c"/);
  });
});
