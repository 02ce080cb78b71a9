import { randomUUID } from "node:crypto";
import { LimitExceededError, newGrant, type Principal, type Target } from "@leasehold/domain";
import { awsRoleTargetSchema } from "@leasehold/providers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, prodTarget, ROLE_ARN, requester, willing } from "./test-harness.js";

const CAPS = { pendingRequests: 2, activeGrants: 1, activeLeases: 3 };

/** prod-readonly under other ids, so one requester can have several pending requests. */
const copies: Target[] = ["a", "b", "c"].map((suffix) => ({ ...prodTarget, id: `prod-${suffix}` }));

const leaseTarget = awsRoleTargetSchema.parse({
  id: "orders-role",
  kind: "aws-role",
  maxDuration: "2h",
  defaultDuration: "15m",
  leases: [
    { provider: "k8s", subject: "system:serviceaccount:orders:*", maxTtl: "20m", maxActive: 2 },
    { provider: "k8s", subject: "system:serviceaccount:billing:*", maxTtl: "20m" },
  ],
  aws: { roleArn: ROLE_ARN },
});

const workload = (subject: string): Principal => ({
  id: `k8s:${subject}`,
  kind: "workload",
  provider: "k8s",
  subject,
  groups: [],
  claims: {},
});

const refusal = async (call: Promise<unknown>): Promise<LimitExceededError> => {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LimitExceededError);
  return error as LimitExceededError;
};

const ask = (h: Harness, targetId: string) =>
  h.broker.requests.create(requester, { targetId, reason: "investigate INC-42", ticket: "INC-42" });

describe("caps on what one principal or one lease rule holds", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("pglite", willing, { targets: [...copies, leaseTarget], caps: CAPS });
  });
  afterAll(() => h.close());

  it("refuses a request beyond limits.pendingRequests, naming the limit and when a slot frees", async () => {
    const [a, b, c] = copies.map((t) => t.id);
    await ask(h, a ?? "");
    await ask(h, b ?? "");
    const error = await refusal(ask(h, c ?? ""));
    expect(error.limit).toBe("limits.pendingRequests");
    // pendingTtl is 1h: the first pending request's window closes in an hour.
    expect(error.retryAfterSeconds).toBe(3600);
    expect(error.message).toMatch(/2 pending requests/);
    const mine = await h.broker.requests.list(requester, { view: "mine", limit: 10 });
    expect(mine).toHaveLength(2);
    for (const { request } of mine) await h.broker.requests.cancel(requester, request.id);
  });

  it("refuses a request while the requester holds limits.activeGrants grants", async () => {
    const grant = newGrant({
      id: randomUUID(),
      requestId: (await ask(h, copies[0]?.id ?? "")).request.id,
      targetId: copies[0]?.id ?? "",
      principalId: requester.id,
      durationSeconds: 600,
      now: h.clock.now,
    });
    await h.db.query(
      "UPDATE access_requests SET state = 'approved', decided_at = $2 WHERE requester_id = $1 AND state = 'pending'",
      [requester.id, h.clock.now],
    );
    await h.deps.store.transaction((repos) => repos.grants.insert(grant));
    await h.db.query("UPDATE grants SET state = 'active', expires_at = $2 WHERE id = $1", [
      grant.id,
      new Date(h.clock.now.getTime() + 600_000),
    ]);
    const error = await refusal(ask(h, copies[1]?.id ?? ""));
    expect(error.limit).toBe("limits.activeGrants");
    expect(error.retryAfterSeconds).toBe(600);
    await h.db.query("UPDATE grants SET state = 'expired' WHERE id = $1", [grant.id]);
    await expect(ask(h, copies[1]?.id ?? "")).resolves.toBeDefined();
  });

  it("refuses a lease beyond the rule's maxActive, counting every workload the rule matches", async () => {
    const api = workload("system:serviceaccount:orders:api");
    const jobs = workload("system:serviceaccount:orders:jobs");
    await h.broker.leases.create(api, { targetId: leaseTarget.id });
    await h.broker.leases.create(jobs, { targetId: leaseTarget.id });
    const error = await refusal(h.broker.leases.create(api, { targetId: leaseTarget.id }));
    expect(error.limit).toBe("targets[orders-role].leases[k8s:system:serviceaccount:orders:*].maxActive");
    expect(error.retryAfterSeconds).toBeGreaterThan(0);
    // Another rule's workloads are not counted against it.
    const billing = workload("system:serviceaccount:billing:api");
    await expect(h.broker.leases.create(billing, { targetId: leaseTarget.id })).resolves.toBeDefined();
  });

  it("refuses a lease beyond limits.activeLeases for one workload", async () => {
    const billing = workload("system:serviceaccount:billing:api");
    await h.broker.leases.create(billing, { targetId: leaseTarget.id });
    await h.broker.leases.create(billing, { targetId: leaseTarget.id });
    const error = await refusal(h.broker.leases.create(billing, { targetId: leaseTarget.id }));
    expect(error.limit).toBe("limits.activeLeases");
    // Leases of 15 minutes, ended by the provider's wall clock (a little after the harness clock's now).
    expect(error.retryAfterSeconds).toBeGreaterThan(0);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(960);
  });
});

describe.each(["pglite", "postgres"] as const)("caps hold under concurrent calls on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect, willing, { targets: [...copies, leaseTarget], caps: CAPS });
  });
  afterAll(() => h.close());

  it("ten concurrent leases under a rule with maxActive 2 issue exactly two", async () => {
    const subjects = Array.from({ length: 10 }, (_, i) => workload(`system:serviceaccount:orders:w${i}`));
    const outcomes = await Promise.allSettled(
      subjects.map((who) => h.broker.leases.create(who, { targetId: leaseTarget.id })),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(2);
    for (const o of outcomes) {
      if (o.status === "rejected") expect(o.reason).toBeInstanceOf(LimitExceededError);
    }
  });

  it("concurrent requests by one person on different targets stay within limits.pendingRequests", async () => {
    const outcomes = await Promise.allSettled(copies.map((t) => ask(h, t.id)));
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(2);
  });
});
