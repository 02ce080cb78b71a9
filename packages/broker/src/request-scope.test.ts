import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { ConflictError, InvalidRequestError, readAuditEvent } from "@leasehold/domain";
import { awsRoleTargetSchema, type Credential } from "@leasehold/providers";
import { type AwsSandbox, startAwsSandbox } from "@leasehold/sandbox";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  approve,
  approverA,
  createHarness,
  type Harness,
  ROLE_ARN,
  requester,
  stsProviderAt,
} from "./test-harness.js";

/** Per-request scope on an AWS role, end to end: asked, approved, issued as a narrowed session. */

const SECRET = "orders/db-password";
const notLast = { isLast: false };

/** Resources long enough that two such scopes together overflow one session policy. */
const bulky = (prefix: string) =>
  Array.from({ length: 22 }, (_, i) => `arn:aws:s3:::${prefix}-bucket-with-a-rather-long-name-${i}/*`);

const scopedTarget = awsRoleTargetSchema.parse({
  id: "prod-scoped",
  kind: "aws-role",
  requesters: { groups: ["engineering"] },
  approvers: { groups: ["sre"] },
  maxDuration: "2h",
  aws: { roleArn: ROLE_ARN, allowedActions: ["secretsmanager:Get*", "sts:AssumeRole", "s3:Get*"] },
  scopes: [
    {
      name: "secrets-read",
      description: "Read the orders database password",
      aws: { actions: ["secretsmanager:GetSecretValue"] },
    },
    { name: "chain", description: "Assume the role again", aws: { actions: ["sts:AssumeRole"] } },
    { name: "bulk-a", aws: { actions: ["s3:GetObject"], resources: bulky("a") } },
    { name: "bulk-b", aws: { actions: ["s3:GetObject"], resources: bulky("b") } },
  ],
});

const awsSession = (credential: Credential) => {
  if (credential.kind !== "aws-session") throw new Error(`expected an AWS session, got ${credential.kind}`);
  return credential;
};

describe("per-request scope on PostgreSQL, issued through the STS stand-in", () => {
  let sandbox: AwsSandbox;
  let h: Harness;

  beforeAll(async () => {
    sandbox = await startAwsSandbox({
      roles: [{ arn: ROLE_ARN, maxSessionDurationSeconds: 7200 }],
      secrets: [{ name: SECRET, secretString: "not-a-real-password" }],
    });
    h = await createHarness("postgres", stsProviderAt(sandbox.url).provider, { targets: [scopedTarget] });
  });
  afterAll(async () => {
    await h.close();
    await sandbox.close();
  });
  beforeEach(() => sandbox.reset());

  const ask = (scopes?: string[]) =>
    h.broker.requests.create(requester, {
      targetId: scopedTarget.id,
      reason: "rotate the orders password",
      durationSeconds: 3600,
      ...(scopes ? { scopes } : {}),
    });
  const auditCount = async () => (await h.deps.store.read((r) => r.audit.verify())).events;
  const requestCount = async () => {
    const rows = await h.db.query<{ n: number }>("SELECT count(*)::int AS n FROM access_requests");
    return rows[0]?.n ?? 0;
  };

  it("issues a session narrowed to the scope asked: an action outside it is denied", async () => {
    const { request } = await ask(["secrets-read"]);
    expect(request.scopes).toEqual(["secrets-read"]);
    const created = await h.deps.store.read((r) =>
      r.audit.list({ afterSeq: 0, limit: 10, subjectId: request.id }),
    );
    const event = created.map(readAuditEvent).find((e) => e?.action === "request.created");
    expect(event?.action === "request.created" && event.data.scopes).toEqual(["secrets-read"]);

    const { grant } = await approve(h.broker, approverA, request.id);
    if (!grant) throw new Error("expected a grant");
    expect(await h.broker.grants.issue(grant.id, notLast)).toBe("issued");
    expect(JSON.parse(sandbox.issued[0]?.policy ?? "null")).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: ["*"] }],
    });

    const session = awsSession((await h.broker.grants.credentials(requester, grant.id)).secret);
    const { accessKeyId, secretAccessKey, sessionToken } = session;
    const credentials = { accessKeyId, secretAccessKey, sessionToken };
    const config = { region: "us-east-1", endpoint: sandbox.url, credentials, maxAttempts: 1 };
    const secret = await new SecretsManagerClient(config).send(
      new GetSecretValueCommand({ SecretId: SECRET }),
    );
    expect(secret.SecretString).toBe("not-a-real-password");
    await expect(
      new STSClient(config).send(
        new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "escape", DurationSeconds: 900 }),
      ),
    ).rejects.toThrow(/no session policy allows the sts:AssumeRole action/);
  });

  it.each([
    ["a scope the target does not offer", ["admin"], /has no scope called admin; it offers secrets-read/],
    [
      "scopes too large together for one session policy",
      ["bulk-a", "bulk-b"],
      /too large for one AWS session/,
    ],
  ])("refuses %s and records nothing", async (_name, scopes, message) => {
    const [events, requests] = [await auditCount(), await requestCount()];
    const refusal = await ask(scopes).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(InvalidRequestError);
    expect((refusal as Error).message).toMatch(message);
    expect([await auditCount(), await requestCount()]).toEqual([events, requests]);
  });

  it("does not issue a grant whose request's scopes were changed in the database", async () => {
    const { request } = await ask(["secrets-read"]);
    const { grant } = await approve(h.broker, approverA, request.id);
    if (!grant) throw new Error("expected a grant");
    await h.db.query("UPDATE access_requests SET scopes = '{chain}' WHERE id = $1", [request.id]);
    await expect(h.broker.grants.issue(grant.id, notLast)).rejects.toThrow(ConflictError);
    expect(sandbox.issued).toHaveLength(0);
    expect((await h.deps.store.read((r) => r.grants.findById(grant.id)))?.state).toBe("failed");
  });
});
