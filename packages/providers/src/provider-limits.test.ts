import { ABSOLUTE_MAX_DURATION_SECONDS, TICKET_CHARACTERS } from "@leasehold/domain";
import { describe, expect, it } from "vitest";
import { AWS_ROLE_DURATION_LIMITS } from "./aws-sts/aws-role-schemas.js";
import { STS, stsTagValueProblem } from "./aws-sts/sts-limits.js";
import { SQL_DURATION_LIMITS } from "./sql-native/sql-schemas.js";
import { VAULT_DURATION_LIMITS } from "./vault/vault-schemas.js";

/* The domain's kind-agnostic bounds hold for every provider's own limits (see domain/src/schemas.ts). */
describe("the domain's shared bounds and the providers' limits", () => {
  it("every provider's duration limits lie within the absolute maximum", () => {
    for (const limits of [AWS_ROLE_DURATION_LIMITS, VAULT_DURATION_LIMITS, SQL_DURATION_LIMITS]) {
      expect(limits.minSeconds).toBeGreaterThan(0);
      expect(limits.maxSeconds).toBeLessThanOrEqual(ABSOLUTE_MAX_DURATION_SECONDS);
    }
  });

  it("a ticket the domain accepts is a session tag value STS accepts", () => {
    expect(TICKET_CHARACTERS.source).toBe(STS.tagCharacters.source);
    expect(TICKET_CHARACTERS.flags).toBe(STS.tagCharacters.flags);
    expect(stsTagValueProblem("OPS-1234 für @team")).toBeUndefined();
  });
});
