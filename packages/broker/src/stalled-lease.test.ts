import type { CredentialProvider } from "@leasehold/providers";
import { awsRoleTargetSchema } from "@leasehold/providers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, ordersServiceAccount, ROLE_ARN, willing } from "./test-harness.js";

/**
 * A lease is issued inside the API call that asked for it, so only that call can hand its credential
 * over. When the call dies or falls far behind, the sweep fails the lease instead of having a worker
 * issue it again: a credential issued to nobody would stay live until its deadline.
 */
const leaseTarget = awsRoleTargetSchema.parse({
  id: "orders-role",
  kind: "aws-role",
  maxDuration: "2h",
  defaultDuration: "15m",
  leases: [{ provider: "k8s", subject: "system:serviceaccount:orders:*", maxTtl: "20m" }],
  aws: { roleArn: ROLE_ARN },
});
const app = ordersServiceAccount;

describe("a lease whose API call stalls while issuing", () => {
  let h: Harness;
  let release: () => void = () => {};
  let issueStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    issueStarted = resolve;
  });
  // The backend answers only when the test says so: the API call is stuck inside the provider call.
  const slow: CredentialProvider = {
    ...willing,
    issue: async (input) => {
      issueStarted();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return willing.issue(input);
    },
  };

  beforeAll(async () => {
    h = await createHarness("pglite", slow, {
      targets: [leaseTarget],
      reconcile: { batch: 100, stalledAfterSeconds: 60, debtRetryAfterSeconds: 60, releaseAfterSeconds: 300 },
    });
  });
  afterAll(() => h.close());

  it("is failed by the sweep, not queued for a worker, and the late call tells its caller to ask again", async () => {
    const leasing = h.broker.leases.create(app, { targetId: leaseTarget.id });
    const refused = leasing.then(
      () => undefined,
      (error: unknown) => error,
    );
    await started;
    const [grant] = await h.db.query<{ id: string; state: string }>("SELECT id, state FROM grants");
    expect(grant?.state).toBe("issuing");

    h.clock.advance(61);
    const report = await h.broker.reconcile.run();
    expect(report).toMatchObject({ leasesAbandoned: 1, issuesEnqueued: 0 });
    expect(h.enqueued.filter((e) => e.queue === "issue")).toEqual([]);
    const failed = await h.deps.store.read((r) => r.grants.findById(grant?.id ?? ""));
    // What the stalled attempt may still create is denied until the lease's own duration has passed.
    expect(failed?.state).toBe("failed");
    const [row] = await h.db.query<{ released_at: Date | null }>(
      "SELECT released_at FROM grants WHERE id = $1",
      [grant?.id],
    );
    expect(row?.released_at).toBeNull();
    expect(failed?.expiresAt?.getTime()).toBe(h.clock.now.getTime() + 15 * 60 * 1000);

    release();
    expect(String(await refused)).toMatch(/could not be issued; ask again/);
    expect((await h.deps.store.read((r) => r.grants.findById(grant?.id ?? "")))?.state).toBe("failed");
  });

  it("leaves a lease that is issuing within the stall limit alone", async () => {
    const before = await h.db.query<{ id: string }>("SELECT id FROM grants");
    const report = await h.broker.reconcile.run();
    expect(report.leasesAbandoned).toBe(0);
    expect((await h.db.query<{ id: string }>("SELECT id FROM grants")).length).toBe(before.length);
  });
});
