import { describe, expect, it } from "vitest";
import { tallyReviews } from "./approval-policy.js";
import {
  emailPrincipalId,
  isInSet,
  type Principal,
  principalIdSchema,
  samePrincipalId,
} from "./principal.js";

const person = (id: string): Principal => ({ id, kind: "human", provider: "corp", subject: id, groups: [] });

describe("emails as principal ids", () => {
  it("folds case, so one person is one id whatever case the IdP or the config uses", () => {
    expect(emailPrincipalId("Alice.Smith+ops@Example.COM")).toEqual({
      ok: true,
      id: "alice.smith+ops@example.com",
    });
    expect(principalIdSchema.parse(" ALICE@example.com ")).toBe("alice@example.com");
    expect(samePrincipalId("Alice@Example.com", "alice@example.com")).toBe(true);
  });

  it.each([
    ["a Kelvin sign (NFKC: K)", "\u212Aevin@example.com", /NFKC/],
    ["a fullwidth letter (NFKC: a)", "\uFF41lice@example.com", /NFKC/],
    ["a ligature (NFKC: fi)", "\uFB01nance@example.com", /NFKC/],
    ["a Cyrillic look-alike", "\u0430lice@example.com", /not an email of ASCII/],
    ["a dotless i", "adm\u0131n@example.com", /not an email of ASCII/],
    ["a zero-width space", "al\u200Bice@example.com", /not an email of ASCII/],
    ["a space", "alice @example.com", /not an email of ASCII/],
    ["no @", "alice.example.com", /not an email of ASCII/],
    ["two @", "alice@evil@example.com", /not an email of ASCII/],
    ["a local part over 64 characters", `${"a".repeat(65)}@example.com`, /not an email of ASCII/],
  ])("refuses an email with %s rather than map it onto another identity", (_name, email, problem) => {
    const result = emailPrincipalId(email);
    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.problem).toMatch(problem);
    expect(principalIdSchema.safeParse(email).success).toBe(false);
  });

  it("a Kelvin-sign email never matches the person it imitates, in any list", () => {
    const kelvin = person("\u212Aevin@example.com");
    expect(samePrincipalId(kelvin.id, "kevin@example.com")).toBe(false);
    expect(samePrincipalId(kelvin.id, "KEVIN@example.com")).toBe(false);
    expect(isInSet(kelvin, { users: ["kevin@example.com"], groups: [] })).toBe(false);
    expect(isInSet(person("KEVIN@example.com"), { users: ["kevin@example.com"], groups: [] })).toBe(true);
  });

  it("keeps workload ids exactly, case included, and refuses ones NFKC would change", () => {
    expect(principalIdSchema.parse("k8s:system:serviceaccount:Team:App")).toBe(
      "k8s:system:serviceaccount:Team:App",
    );
    expect(samePrincipalId("k8s:App", "k8s:app")).toBe(false);
    expect(principalIdSchema.safeParse("k8s:\u212Aapp").success).toBe(false);
  });

  it("the requester is never counted as an approver under another spelling of their email", () => {
    const tally = tallyReviews(
      [
        {
          requestId: "r",
          reviewerId: "Dev@Example.com",
          decision: "approve",
          comment: null,
          createdAt: new Date(0),
        },
        {
          requestId: "r",
          reviewerId: "alice@example.com",
          decision: "approve",
          comment: null,
          createdAt: new Date(0),
        },
      ],
      "dev@example.com",
      2,
    );
    expect(tally).toMatchObject({ approvers: ["alice@example.com"], needed: 1, outcome: "pending" });
  });
});
