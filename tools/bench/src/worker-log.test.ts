import { describe, expect, it } from "vitest";
import { grantsExpiredBySweep } from "./worker-log.js";

describe("grantsExpiredBySweep", () => {
  it("adds up what every sweep reported expiring, ignoring other lines", () => {
    const log = [
      '{"level":30,"name":"leasehold-worker","expired":120,"requestsExpired":0,"msg":"reconciliation sweep acted"}',
      '{"level":30,"name":"leasehold-worker","grantId":"g","msg":"grant expired"}',
      "not json at all",
      '{"level":30,"name":"leasehold-worker","expired":5,"msg":"reconciliation sweep acted"}',
      '{"level":30,"expired":3,"msg":"reconciliation sweep acted"',
    ].join("\n");
    expect(grantsExpiredBySweep(log)).toBe(125);
  });
});
