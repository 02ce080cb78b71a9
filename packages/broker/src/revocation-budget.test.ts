import type { IAMClient } from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { noMetrics, type Principal } from "@leasehold/domain";
import type { Credential } from "@leasehold/providers";
import { awsRoleTargetSchema } from "@leasehold/providers";
import { type AwsSandbox, startAwsSandbox } from "@leasehold/sandbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  admin,
  approvedProdGrant,
  createHarness,
  type Harness,
  prodTarget,
  ROLE_ARN,
  requester,
  stsProviderAt,
} from "./test-harness.js";

const notLast = { isLast: false };

/** A workload whose lease rule is on the same role as people's prod-readonly grants. */
const ciRunner: Principal = {
  id: "k8s:ci-runner",
  kind: "workload",
  provider: "k8s",
  subject: "ci-runner",
  groups: [],
  claims: {},
};
const ciTarget = awsRoleTargetSchema.parse({
  id: "prod-ci",
  kind: "aws-role",
  maxDuration: "1h",
  leases: [{ provider: "k8s", subject: "ci-runner", maxTtl: "1h", maxActive: 1000 }],
  aws: { roleArn: ROLE_ARN },
});

type Session = { accessKeyId: string; secretAccessKey: string; sessionToken: string };

/**
 * Issue 11, item 1: one workload revoking its own leases must not make revocation on the role it
 * shares with people impossible. Real PostgreSQL (several connections, so the per-role lock is
 * PostgreSQL's, as between workers) and the STS/IAM stand-in, whose clock is the harness's.
 */
describe("the revocation budget of a role shared by a workload and people", () => {
  let sandbox: AwsSandbox;
  let h: Harness;
  let iam: IAMClient;
  // The stand-in starts before the harness; from then on it keeps the harness clock.
  const now = () => h?.clock.now ?? new Date();
  /** The budget share each denials write reported, by role. */
  const budget = new Map<string, number>();

  beforeAll(async () => {
    sandbox = await startAwsSandbox({ roles: [{ arn: ROLE_ARN }], clock: now });
    const clients = stsProviderAt(sandbox.url);
    iam = clients.iam;
    h = await createHarness("postgres", clients.provider, {
      targets: [prodTarget, ciTarget],
      caps: { pendingRequests: 10, activeGrants: 10, activeLeases: 1000 },
      metrics: { ...noMetrics, iamPolicyBudgetUsed: (role, ratio) => budget.set(role, ratio) },
    });
  }, 30_000);
  afterAll(async () => {
    await h?.close();
    await sandbox?.close();
  });

  /** Whether the role still honours a session: role chaining is a call IAM governs (GetCallerIdentity is not). */
  const works = (secret: Session) =>
    new STSClient({ region: "us-east-1", endpoint: sandbox.url, credentials: secret, maxAttempts: 1 })
      .send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "chained", DurationSeconds: 900 }))
      .then(
        () => true,
        (error: Error) => {
          if (error.name !== "AccessDenied") throw error;
          return false;
        },
      );
  const session = (credential: Credential): Session => {
    if (credential.kind !== "aws-session") throw new Error(`expected an AWS session, got ${credential.kind}`);
    const { accessKeyId, secretAccessKey, sessionToken } = credential;
    return { accessKeyId, secretAccessKey, sessionToken };
  };
  const credentialsOf = async (who: Principal, grantId: string) =>
    session((await h.broker.grants.credentials(who, grantId)).secret);
  const leaseAndRevoke = async () => {
    const { grant } = await h.broker.leases.create(ciRunner, { targetId: ciTarget.id, ttlSeconds: 3600 });
    await h.broker.grants.revoke(ciRunner, { grantId: grant.id });
    expect(await h.broker.grants.finishRevoke(grant.id, notLast)).toBe("revoked");
    return grant.id;
  };
  const cutoffEvents = async () =>
    (await h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 10_000 }))).filter(
      (e) => e.action === "revocation.cutoff",
    );

  it("300 revoked leases later, an admin still revokes a person's grant, and the live grants keep working", async () => {
    const { grant: person } = await approvedProdGrant(h.broker);
    await h.broker.grants.issue(person.id, notLast);
    const personSession = await credentialsOf(requester, person.id);
    const { grant: liveLease, credential } = await h.broker.leases.create(ciRunner, {
      targetId: ciTarget.id,
      ttlSeconds: 3600,
    });
    const liveLeaseSession = session(credential.secret);

    const revokedLeases: string[] = [];
    for (let i = 0; i < 300; i++) {
      revokedLeases.push(await leaseAndRevoke());
      h.clock.advance(1);
    }
    // The revocations outgrew the room left to workloads: a cut-off took over, announced once.
    const events = await cutoffEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      subjectType: "revocation",
      subjectId: ROLE_ARN,
      data: { role: ROLE_ARN, ended: 0 },
    });
    const policies = sandbox.rolePolicies("ProdReadOnly");
    expect(Object.keys(policies)).toEqual(["leasehold-denials"]);
    const size = (policies["leasehold-denials"] ?? "").replace(/\s/g, "").length;
    expect(size).toBeLessThanOrEqual(10_240);
    // The budget metric says how full the role is: the denials policy is all it holds.
    expect(budget.get(ROLE_ARN)).toBe(size / 10_240);

    expect(await works(personSession)).toBe(true);
    expect(await works(liveLeaseSession)).toBe(true);

    await h.broker.grants.revoke(admin, { grantId: person.id, reason: "emergency" });
    expect(await h.broker.grants.finishRevoke(person.id, notLast)).toBe("revoked");
    expect(await works(personSession)).toBe(false);
    expect(await works(liveLeaseSession)).toBe(true);
    expect((await h.deps.store.read((r) => r.grants.findById(liveLease.id)))?.state).toBe("active");
  }, 120_000);

  it("revocations on one role from concurrent workers all hold: none overwrites another", async () => {
    const leases = [];
    for (let i = 0; i < 20; i++) {
      const { grant, credential } = await h.broker.leases.create(ciRunner, {
        targetId: ciTarget.id,
        ttlSeconds: 3600,
      });
      leases.push({ id: grant.id, session: session(credential.secret) });
    }
    // The first write of the role's denials is held for a second, time enough for every other one to
    // land without the lock: then it would land last, carrying only what it read before the others.
    let firstHeld = false;
    iam.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "PutRolePolicyCommand" && !firstHeld) {
          firstHeld = true;
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        return next(args);
      },
      { step: "initialize", name: "holdFirstPut" },
    );
    // Each revocation asked for and carried out at once, as several workers would.
    const outcomes = await Promise.all(
      leases.map(async (lease) => {
        await h.broker.grants.revoke(ciRunner, { grantId: lease.id });
        return h.broker.grants.finishRevoke(lease.id, notLast);
      }),
    );
    iam.middlewareStack.remove("holdFirstPut");
    expect(firstHeld).toBe(true);
    expect(outcomes.every((outcome) => outcome === "revoked")).toBe(true);
    for (const lease of leases) expect(await works(lease.session)).toBe(false);
  }, 60_000);
});
