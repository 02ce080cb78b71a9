import type { Metrics } from "@leasehold/domain";
import type { CredentialProvider } from "@leasehold/providers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  approvedProdGrant,
  createHarness,
  grantInState,
  type Harness,
  requester,
  willing,
} from "./test-harness.js";

/**
 * The use cases report what happened through the Metrics port: provider latencies by target kind,
 * how late an expiry was. The provider calls move the harness clock, so the durations are exact.
 */
describe("what the use cases count", () => {
  let h: Harness;
  const reported: [string, ...unknown[]][] = [];
  const record =
    (name: keyof Metrics) =>
    (...args: unknown[]) => {
      reported.push([name, ...args]);
    };
  const metrics = Object.fromEntries(
    (
      [
        "grantIssued",
        "revokeCompleted",
        "expiryLateness",
        "sweepFinished",
        "jobFailed",
        "slackDelivery",
        "tokenRejected",
        "rateLimited",
        "rotationOutcome",
        "iamPolicyBudgetUsed",
        "sealedUnderPreviousKeys",
      ] as const
    ).map((name) => [name, record(name)]),
  ) as unknown as Metrics;
  const slow: CredentialProvider = {
    ...willing,
    issue: async (input) => {
      h.clock.advance(2);
      return willing.issue(input);
    },
    revoke: async () => {
      h.clock.advance(1);
    },
    expire: async () => {
      h.clock.advance(0.5);
    },
  };

  beforeAll(async () => {
    h = await createHarness("pglite", slow, { metrics });
  });
  afterAll(() => h.close());

  it("an issue reports the provider's kind and how long its call took", async () => {
    reported.length = 0;
    const { grant } = await approvedProdGrant(h.broker);
    expect(await h.broker.grants.issue(grant.id, { isLast: false })).toBe("issued");
    expect(reported).toEqual([["grantIssued", "aws-role", 2]]);
  });

  it("a revocation reports the provider's kind and how long its call took", async () => {
    const { grant } = await approvedProdGrant(h.broker);
    await h.broker.grants.issue(grant.id, { isLast: false });
    await h.broker.grants.revoke(requester, { grantId: grant.id });
    reported.length = 0;
    expect(await h.broker.grants.finishRevoke(grant.id, { isLast: false })).toBe("revoked");
    expect(reported).toEqual([["revokeCompleted", "aws-role", 1]]);
  });

  it("an expiry reports the provider's call and how late after the deadline it ended", async () => {
    const id = await grantInState(h, "active", -30);
    reported.length = 0;
    expect(await h.broker.grants.expire(id, { isLast: false })).toBe("expired");
    expect(reported).toEqual([
      ["revokeCompleted", "aws-role", 0.5],
      ["expiryLateness", 30.5],
    ]);
  });
});
