import {
  ForbiddenError,
  type Grant,
  InvalidRequestError,
  type Principal,
  type Target,
} from "@leasehold/domain";
import { policyEngineFor } from "@leasehold/policy";
import { awsRoleTargetSchema } from "@leasehold/providers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, createBroker } from "./broker.js";
import { targetCatalog } from "./broker-deps.js";
import {
  admin,
  createHarness,
  grantInState,
  HARNESS_ADMINS,
  type Harness,
  prodTarget,
  ROLE_ARN,
  requester,
  willing,
} from "./test-harness.js";

const NAMESPACE = "kubernetes.io/namespace";
const ordersRule = {
  provider: "k8s",
  subject: "system:serviceaccount:orders:*",
  claims: { [NAMESPACE]: "orders" },
  maxTtl: "20m",
};
const roleTarget = (leases: (typeof ordersRule)[]): Target =>
  awsRoleTargetSchema.parse({
    id: "orders-role",
    kind: "aws-role",
    requesters: { groups: ["sre"] },
    approvers: { groups: ["sre"] },
    maxDuration: "2h",
    defaultDuration: "15m",
    leases,
    aws: { roleArn: ROLE_ARN },
  });
const leaseTarget = roleTarget([ordersRule]);

const SUBJECT = "system:serviceaccount:orders:api";
const workload = (namespace: string): Principal => ({
  id: `k8s:${SUBJECT}`,
  kind: "workload",
  provider: "k8s",
  subject: SUBJECT,
  groups: [],
  claims: { [NAMESPACE]: namespace },
});
const app = workload("orders");
/** The same `sub`, so the same principal id, but a namespace the lease rule does not allow. */
const sameSubOtherNamespace = workload("billing");

/** Every operation on one grant a workload could call, one after the other: each one's value or error. */
const everyUse = async (broker: Broker, who: Principal, grantId: string) => {
  const uses: (() => Promise<unknown>)[] = [
    () => broker.grants.get(who, grantId),
    () => broker.grants.credentials(who, grantId),
    () => broker.grants.extend(who, { grantId, extendBySeconds: 600 }),
    () => broker.leases.renew(who, { grantId, incrementSeconds: 600 }),
    () => broker.grants.revoke(who, { grantId }),
  ];
  const outcomes: ({ value: unknown } | { error: unknown })[] = [];
  for (const use of uses) {
    outcomes.push(
      await use().then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
    );
  }
  return outcomes;
};

describe("every use of a lease re-checks its lease rule", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("pglite", willing, { targets: [prodTarget, leaseTarget] });
  });
  afterAll(() => h.close());

  const stored = async (id: string): Promise<Grant | undefined> =>
    h.deps.store.read((r) => r.grants.findById(id));
  const takeLease = async () => (await h.broker.leases.create(app, { targetId: leaseTarget.id })).grant;
  /** The broker as it runs after leasehold.yaml changed, over the same database. */
  const brokerWith = (targets: Target[]) =>
    createBroker({
      ...h.deps,
      targets: targetCatalog(targets),
      policy: policyEngineFor({ targets, admins: HARNESS_ADMINS }),
    });

  const expectAllRefused = async (broker: Broker, who: Principal, lease: Grant, why: RegExp) => {
    const before = await stored(lease.id);
    const outcomes = await everyUse(broker, who, lease.id);
    for (const outcome of outcomes) {
      expect(outcome).toHaveProperty("error");
      const error = (outcome as { error: Error }).error;
      expect(error).toBeInstanceOf(ForbiddenError);
      expect(error.message).toMatch(why);
      // Claim names may be named, a claim's value never.
      expect(error.message).not.toMatch(/billing|payments/);
    }
    expect(await broker.grants.list(who, 50)).not.toContainEqual(expect.objectContaining({ id: lease.id }));
    expect(await stored(lease.id)).toEqual(before);
    const reads = await h.deps.store.read((r) =>
      r.audit.list({ afterSeq: 0, limit: 100, subjectId: lease.id }),
    );
    expect(reads.filter((e) => e.action === "grant.credentials_read")).toHaveLength(1);
  };

  it("a token with the lease's sub but another namespace can neither see, read, extend, renew nor revoke it", async () => {
    const lease = await takeLease();
    await expectAllRefused(h.broker, sameSubOtherNamespace, lease, /kubernetes\.io\/namespace/);
    // The token the rule allows still can.
    expect((await h.broker.grants.get(app, lease.id)).id).toBe(lease.id);
    expect((await h.broker.grants.list(app, 50)).map((g) => g.id)).toContain(lease.id);
  });

  it("a lease rule removed from leasehold.yaml allows nothing, even to the token that took the lease", async () => {
    const lease = await takeLease();
    const otherRuleOnly = roleTarget([{ ...ordersRule, claims: { [NAMESPACE]: "payments" } }]);
    await expectAllRefused(brokerWith([prodTarget, otherRuleOnly]), app, lease, /kubernetes\.io\/namespace/);
    await expectAllRefused(
      brokerWith([prodTarget, roleTarget([])]),
      app,
      lease,
      /no lease rule of orders-role/,
    );
  });

  it("a target removed from leasehold.yaml allows none of its leases", async () => {
    const lease = await takeLease();
    await expectAllRefused(brokerWith([prodTarget]), app, lease, /orders-role is no longer configured/);
  });

  it("admins keep their powers: they see and revoke any lease, whatever the configuration", async () => {
    const lease = await takeLease();
    const withoutTarget = brokerWith([prodTarget]);
    expect((await withoutTarget.grants.get(admin, lease.id)).id).toBe(lease.id);
    expect((await withoutTarget.grants.revoke(admin, { grantId: lease.id })).state).toBe("revoking");
  });
});

describe("leases are renewed only by leases.renew, grants from requests only extended", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("pglite", willing, { targets: [prodTarget, leaseTarget] });
  });
  afterAll(() => h.close());

  it("grants.extend on a lease is refused and points to leases.renew; the deadline stays", async () => {
    const { grant: lease } = await h.broker.leases.create(app, { targetId: leaseTarget.id });
    const error = await h.broker.grants
      .extend(app, { grantId: lease.id, extendBySeconds: 600 })
      .catch((e) => e);
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toMatch(/leases\.renew/);
    expect((await h.broker.grants.get(app, lease.id)).expiresAt).toEqual(lease.expiresAt);
    // leases.renew keeps to the rule: 20 minutes at most per renewal.
    await expect(h.broker.leases.renew(app, { grantId: lease.id, incrementSeconds: 1201 })).rejects.toThrow(
      /at most 1200 seconds/,
    );
    expect(
      (await h.broker.leases.renew(app, { grantId: lease.id, incrementSeconds: 1200 })).expiresAt,
    ).not.toEqual(lease.expiresAt);
  });

  it("leases.renew on a grant from a request is refused and points to grants.extend", async () => {
    const grantId = await grantInState(h, "active", 1800);
    const before = await h.deps.store.read((r) => r.grants.findById(grantId));
    const error = await h.broker.leases.renew(requester, { grantId, incrementSeconds: 600 }).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toMatch(/grants\.extend/);
    expect(await h.deps.store.read((r) => r.grants.findById(grantId))).toEqual(before);
    // The requester extends it the way people do.
    expect((await h.broker.grants.extend(requester, { grantId, extendBySeconds: 600 })).state).toBe("active");
  });
});
