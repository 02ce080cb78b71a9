import { randomUUID } from "node:crypto";
import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import { createStore, type Database } from "@leasehold/db";
import {
  type Caps,
  type GrantState,
  type Metrics,
  newGrant,
  type Principal,
  type Target,
} from "@leasehold/domain";
import { policyEngineFor } from "@leasehold/policy";
import {
  awsRoleTargetSchema,
  type CredentialProvider,
  createAwsStsProvider,
  providerRegistry,
  vaultTargetSchema,
} from "@leasehold/providers";
import { SANDBOX_ACCESS_KEY } from "@leasehold/sandbox";
import { createTestDatabase, type Dialect } from "@leasehold/test-kit";
import { type Broker, createBroker, type RotationSetup } from "./broker.js";
import { type BrokerDeps, targetCatalog } from "./broker-deps.js";
import { createCredentialCipher, grantBinding } from "./credential-cipher.js";
import type { ExpiryOptions } from "./expiry-service.js";
import type { ReconcileOptions } from "./reconcile-service.js";

/**
 * Shared set-up for the broker's tests: a real database (PGlite or PostgreSQL), a settable clock, a
 * queue recorder standing in for BullMQ (the queue package has its own tests on real Redis), and the
 * provider the test chooses.
 */

export const person = (id: string, groups: string[] = []): Principal => ({
  id,
  kind: "human",
  provider: "corp",
  subject: `sub-${id}`,
  groups,
});

export const requester = person("dev@example.com", ["engineering"]);
export const approverA = person("alice@example.com", ["sre"]);
export const approverB = person("bob@example.com", ["sre"]);
export const approverC = person("carol@example.com", ["sre"]);
export const outsider = person("mallory@example.com", ["engineering"]);
export const admin = person("sec@example.com", ["security"]);

/** The orders API's service account, as a Kubernetes workload lease sees it. */
export const ordersServiceAccount: Principal = {
  id: "k8s:system:serviceaccount:orders:api",
  kind: "workload",
  provider: "k8s",
  subject: "system:serviceaccount:orders:api",
  groups: [],
  claims: {},
};

export const ROLE_ARN = "arn:aws:iam::123456789012:role/ProdReadOnly";

export const prodTarget: Target = awsRoleTargetSchema.parse({
  id: "prod-readonly",
  kind: "aws-role",
  requesters: { groups: ["engineering", "sre"] },
  approvers: { groups: ["sre"] },
  requiredApprovals: 2,
  maxDuration: "2h",
  defaultDuration: "1h",
  pendingTtl: "1h",
  ticket: { pattern: "[A-Z]+-[0-9]+" },
  aws: { roleArn: ROLE_ARN, sessionTags: { environment: "production" } },
});

/** A provider that issues whatever it is asked and ends whatever it is told, so only the broker decides. */
export const willing: CredentialProvider = {
  kind: "aws-role",
  issue: async ({ grant }) => {
    const expiresAt = new Date(Date.now() + grant.durationSeconds * 1000);
    return {
      reference: { sessionName: `lh-${grant.id}` },
      secret: {
        kind: "aws-session",
        accessKeyId: "AKIAFAKE",
        secretAccessKey: "fake",
        sessionToken: "fake",
        expiration: expiresAt.toISOString(),
      },
      expiresAt,
    };
  },
  discardEarlierAttempts: async () => {},
  revoke: async () => {},
  expire: async () => {},
  release: async () => {},
  needsRelease: () => false,
};

/** AWS SDK clients for the AWS stand-in at `endpoint`, and the STS provider over them. */
export function stsProviderAt(endpoint: string, options: { maxAttempts?: number } = {}) {
  const config = {
    region: "us-east-1",
    endpoint,
    credentials: SANDBOX_ACCESS_KEY,
    maxAttempts: options.maxAttempts ?? 1,
  };
  const sts = new STSClient(config);
  const iam = new IAMClient(config);
  return { sts, iam, provider: createAwsStsProvider({ sts, iam }) };
}

/** A workload and the Vault target whose lease rule lets it lease `database/creds/orders`. */
export const ordersVaultLeases = {
  workload: {
    id: "k8s:orders-api",
    kind: "workload",
    provider: "k8s",
    subject: "orders-api",
    groups: [],
    claims: {},
  } satisfies Principal as Principal,
  target: vaultTargetSchema.parse({
    id: "orders",
    kind: "vault",
    maxDuration: "2h",
    leases: [{ provider: "k8s", subject: "orders-*", maxTtl: "1h" }],
    vault: { path: "database/creds/orders" },
  }),
};

export type Enqueued = { queue: "issue" | "expire" | "revoke"; grantId: string; deadline?: Date };

/** The harness's admins: the `security` group. */
export const HARNESS_ADMINS = { users: [], groups: ["security"] };

export type Harness = {
  db: Database;
  /** The database's URL on PostgreSQL, for a second connection pool to it (another process's). */
  url: string | undefined;
  broker: Broker;
  deps: BrokerDeps;
  enqueued: Enqueued[];
  clock: { now: Date; advance(seconds: number): void };
  close(): Promise<void>;
};

const silent = { info() {}, warn() {}, error() {} };

export async function createHarness(
  dialect: Dialect,
  provider: CredentialProvider,
  options: {
    targets?: Target[];
    wrapDatabase?: (db: Database) => Database;
    rotation?: RotationSetup;
    reconcile?: ReconcileOptions;
    expiry?: ExpiryOptions;
    caps?: Caps;
    metrics?: Metrics;
  } = {},
): Promise<Harness> {
  const raw = await createTestDatabase(dialect);
  const db = options.wrapDatabase ? options.wrapDatabase(raw) : raw;
  const enqueued: Enqueued[] = [];
  const clock = {
    now: new Date(),
    advance(seconds: number) {
      this.now = new Date(this.now.getTime() + seconds * 1000);
    },
  };
  const targets = options.targets ?? [prodTarget];
  const deps: BrokerDeps = {
    store: createStore(db, { keyId: "k1", auditKey: Buffer.alloc(32, 3), grantKey: Buffer.alloc(32, 2) }),
    targets: targetCatalog(targets),
    providers: providerRegistry([provider]),
    queues: {
      issue: async (grantId) => {
        enqueued.push({ queue: "issue", grantId });
      },
      expireAt: async (grantId, deadline) => {
        enqueued.push({ queue: "expire", grantId, deadline });
      },
      revoke: async (grantId) => {
        enqueued.push({ queue: "revoke", grantId });
      },
    },
    cipher: createCredentialCipher({ id: "k1", key: Buffer.alloc(32, 4) }),
    clock: () => clock.now,
    newId: randomUUID,
    policy: policyEngineFor({ targets, admins: HARNESS_ADMINS }),
    log: silent,
    caps: options.caps,
    metrics: options.metrics,
  };
  return {
    db,
    url: raw.url,
    broker: createBroker(deps, {
      ...(options.rotation ? { rotation: options.rotation } : {}),
      ...(options.reconcile ? { reconcile: options.reconcile } : {}),
      ...(options.expiry ? { expiry: options.expiry } : {}),
    }),
    deps,
    enqueued,
    clock,
    close: () => db.close(),
  };
}

/** A request for prod-readonly by the standard requester. */
export const askForProd = (broker: Broker, overrides: { durationSeconds?: number; ticket?: string } = {}) =>
  broker.requests.create(requester, {
    targetId: prodTarget.id,
    reason: "investigate INC-42",
    durationSeconds: overrides.durationSeconds ?? 3600,
    ...(overrides.ticket ? { ticket: overrides.ticket } : {}),
  });

/** The standard requester's request for prod-readonly, approved by two approvers: its grant waits to be issued. */
export async function approvedProdGrant(broker: Broker, overrides: { ticket?: string } = {}) {
  const { request } = await askForProd(broker, overrides);
  await approve(broker, approverA, request.id);
  const { grant } = await approve(broker, approverB, request.id);
  if (!grant) throw new Error("expected the request to be approved and a grant created");
  return { request, grant };
}

/**
 * A grant of the standard requester's request for prod-readonly, put straight into `state` (as a crash
 * or another process could have left it), issued a minute ago with its deadline `deadlineInSeconds`
 * from the harness clock; an active one holds a sealed credential.
 */
export async function grantInState(
  h: Harness,
  state: GrantState,
  deadlineInSeconds: number,
): Promise<string> {
  const { request } = await askForProd(h.broker);
  const now = h.clock.now;
  const grant = newGrant({
    id: randomUUID(),
    requestId: request.id,
    targetId: prodTarget.id,
    principalId: requester.id,
    durationSeconds: 3600,
    now,
  });
  // Decided (so the next call may ask again: one pending request per requester and target) and
  // recorded as the broker records an approval, so the grant's provenance is in the audit trail.
  await h.deps.store.transaction(async (repos) => {
    await repos.requests.decide(request.id, "approved", now);
    await repos.grants.insert(grant);
    await repos.audit.appendMany(
      [
        {
          actor: approverA.id,
          action: "request.approved",
          subjectType: "request",
          subjectId: request.id,
          data: { approvers: [approverA.id, approverB.id], policies: [] },
        },
        {
          actor: approverB.id,
          action: "grant.created",
          subjectType: "grant",
          subjectId: grant.id,
          data: { requestId: request.id, targetId: grant.targetId, durationSeconds: grant.durationSeconds },
        },
      ],
      now,
    );
  });
  // Through the repository, as Leasehold itself would have written it, so the row's MAC matches.
  await h.deps.store.transaction(async (repos) => {
    await repos.grants.beginIssueAttempt(grant.id, now);
    await repos.grants.transition(grant.id, ["issuing"], state, now, {
      issuedAt: new Date(now.getTime() - 60_000),
      expiresAt: new Date(now.getTime() + deadlineInSeconds * 1000),
      ...(state === "active"
        ? { credential: h.deps.cipher.seal(grantBinding(grant), { accessKeyId: "AKIAOLD" }) }
        : {}),
    });
  });
  return grant.id;
}

/** Expires each grant at once (one batch), with each one's outcome or its error's message. */
export const expireAll = async (broker: Broker, ids: readonly string[], attempt: { isLast: boolean }) =>
  (await Promise.allSettled(ids.map((id) => broker.grants.expire(id, attempt)))).map((r) =>
    r.status === "fulfilled" ? r.value : (r.reason as Error).message,
  );

export const approve = (broker: Broker, who: Principal, requestId: string) =>
  broker.reviews.submit(who, { requestId, decision: "approve" });
