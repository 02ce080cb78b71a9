import { describe, expect, it } from "vitest";
import { renderApprovers, renderCaseResults, renderDiff, renderExplanation } from "./policy-render.js";

describe("the policy commands' text", () => {
  it("policy test: one line per case, what differs under a failure, and the count", () => {
    const base = { expected: "allow" as const, policies: [], advice: [], invariant: undefined };
    const text = renderCaseResults([
      { ...base, name: "ok", passed: true, allowed: true, problems: [] },
      {
        ...base,
        name: "weekend",
        passed: false,
        allowed: false,
        advice: ["not at weekends"],
        problems: ["expected allow, got deny"],
      },
    ]);
    expect(text).toBe(
      "pass  ok\nFAIL  weekend\n      expected allow, got deny\n      advice: not at weekends\n1 of 2 cases FAIL",
    );
  });

  it("policy diff: gains then losses, by principal, action and targets; a group's stand-in says so", () => {
    const text = renderDiff("old.yaml", "new.yaml", {
      at: "2026-12-02T12:00:00.000Z",
      principals: 3,
      decisions: 10,
      gains: [
        {
          principal: "carol@example.com",
          label: "carol@example.com",
          actions: [{ action: "Approve", resources: ["prod", "staging"] }],
        },
      ],
      losses: [],
    });
    expect(text).toBe(
      [
        "access from old.yaml to new.yaml (3 principals, asked at 2026-12-02T12:00:00.000Z)",
        "gains (allowed by the new configuration, not by the old):",
        "  carol@example.com",
        "    Approve: prod, staging",
        "losses (allowed by the old configuration, not by the new): none",
      ].join("\n"),
    );
  });

  it("policy explain: the decision, what decided it with its place and advice, and each policy alone", () => {
    const text = renderExplanation("dev Request prod", {
      decision: { allowed: false, policies: ["cap"], advice: ["ask for less"] },
      invariant: undefined,
      verdicts: [
        {
          id: "target/prod/requesters",
          effect: "permit",
          file: "leasehold.yaml",
          line: 4,
          advice: undefined,
          satisfied: true,
          error: undefined,
          deciding: false,
        },
        {
          id: "cap",
          effect: "forbid",
          file: "policies/cap.cedar",
          line: 2,
          advice: "ask for less",
          satisfied: true,
          error: undefined,
          deciding: true,
        },
      ],
    });
    expect(text).toContain("DENIED: dev Request prod\n  decided by:\n    cap (forbid, policies/cap.cedar:2)");
    expect(text).toContain("  advice: ask for less");
    expect(text).toContain("    permit target/prod/requesters (leasehold.yaml): satisfied");
    expect(text).toContain("  * forbid cap (policies/cap.cedar:2): satisfied");
  });

  it("approvers: each level, people then groups, nobody when empty", () => {
    const text = renderApprovers({
      target: "prod",
      requiredApprovals: 2,
      levels: [
        { level: 0, people: [], groups: [] },
        { level: 1, people: [{ id: "cto@example.com", policies: ["target/prod/escalation/1"] }], groups: [] },
      ],
    });
    expect(text).toBe(
      [
        "prod: 2 distinct approval(s) needed; the requester never counts",
        "as posted:",
        "  nobody",
        "after escalation to level 1:",
        "  cto@example.com (target/prod/escalation/1)",
      ].join("\n"),
    );
  });
});
