import { randomUUID } from "node:crypto";
import { ConflictError } from "@leasehold/domain";
import { awsRoleTargetSchema, type CredentialProvider } from "@leasehold/providers";
import { type AwsSandbox, startAwsSandbox } from "@leasehold/sandbox";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  approvedProdGrant,
  createHarness,
  type Harness,
  ordersServiceAccount,
  outsider,
  ROLE_ARN,
  requester,
  stsProviderAt,
  willing,
} from "./test-harness.js";

const notLast = { isLast: false };
const changedOutside = /row was changed outside Leasehold .*does not match its MAC/;

// Each tamper is what someone with write access to the database, but not the master key, can do.
describe("grant rows changed outside Leasehold", () => {
  let sandbox: AwsSandbox;
  let provider: CredentialProvider;
  let h: Harness;

  beforeAll(async () => {
    sandbox = await startAwsSandbox({ roles: [{ arn: ROLE_ARN, maxSessionDurationSeconds: 7200 }] });
    ({ provider } = stsProviderAt(sandbox.url));
    h = await createHarness("pglite", provider);
  });
  afterAll(async () => {
    await h.close();
    await sandbox.close();
  });
  beforeEach(() => {
    sandbox.reset();
    h.clock.now = new Date();
  });

  const approvedGrant = async () => (await approvedProdGrant(h.broker)).grant;
  const activeGrant = async () => {
    const grant = await approvedGrant();
    expect(await h.broker.grants.issue(grant.id, notLast)).toBe("issued");
    sandbox.reset();
    return grant;
  };
  const stateOf = async (id: string) => (await h.deps.store.read((r) => r.grants.findById(id)))?.state;

  it("an active grant handed to someone else delivers nothing, to them or to its holder", async () => {
    const grant = await activeGrant();
    await h.db.query("UPDATE grants SET principal_id = $2 WHERE id = $1", [grant.id, outsider.id]);
    const taken = h.broker.grants.credentials(outsider, grant.id);
    await expect(taken).rejects.toBeInstanceOf(ConflictError);
    await expect(taken).rejects.toThrow(changedOutside);
    const audited = await h.deps.store.read((r) =>
      r.audit.list({ afterSeq: 0, limit: 100, subjectId: grant.id }),
    );
    expect(audited.map((e) => e.action)).not.toContain("grant.credentials_read");
  });

  it("an active grant whose deadline was pushed back delivers nothing", async () => {
    const grant = await activeGrant();
    await h.db.query("UPDATE grants SET expires_at = expires_at + interval '1 day' WHERE id = $1", [
      grant.id,
    ]);
    await expect(h.broker.grants.credentials(requester, grant.id)).rejects.toThrow(changedOutside);
  });

  it("a grant under revocation moved back to active by hand delivers nothing", async () => {
    const grant = await activeGrant();
    await h.broker.grants.revoke(requester, { grantId: grant.id });
    await h.db.query("UPDATE grants SET state = 'active' WHERE id = $1", [grant.id]);
    await expect(h.broker.grants.credentials(requester, grant.id)).rejects.toThrow(changedOutside);
  });

  it("a grant under revocation moved back to issuing is not issued, though Leasehold writes the row first", async () => {
    const grant = await activeGrant();
    await h.broker.grants.revoke(requester, { grantId: grant.id });
    await h.db.query("UPDATE grants SET state = 'issuing' WHERE id = $1", [grant.id]);
    // The issue job counts its attempt (a write of a sealed field) before it checks the row.
    await expect(h.broker.grants.issue(grant.id, notLast)).rejects.toThrow(changedOutside);
    expect(sandbox.issued).toEqual([]);
    expect(await stateOf(grant.id)).toBe("failed");
  });

  it("an ended grant put back as it first was, MAC and all, is not issued again: the audit trail says it was", async () => {
    const grant = await approvedGrant();
    const [first] = await h.db.query(
      "SELECT state, issue_attempts, expires_at, mac FROM grants WHERE id = $1",
      [grant.id],
    );
    expect(await h.broker.grants.issue(grant.id, notLast)).toBe("issued");
    await h.broker.grants.revoke(requester, { grantId: grant.id });
    sandbox.reset();
    await h.db.query(
      "UPDATE grants SET state = $2, issue_attempts = $3, expires_at = $4, mac = $5, issued_at = NULL WHERE id = $1",
      [grant.id, first?.state, first?.issue_attempts, first?.expires_at, first?.mac],
    );
    await expect(h.broker.grants.issue(grant.id, notLast)).rejects.toThrow(/already issued or ended/);
    expect(sandbox.issued).toEqual([]);
  });

  it("an issuing grant with its holder or duration changed is not issued", async () => {
    const grant = await approvedGrant();
    await h.db.query("UPDATE grants SET duration_seconds = 43200 WHERE id = $1", [grant.id]);
    await expect(h.broker.grants.issue(grant.id, notLast)).rejects.toThrow(changedOutside);
    const other = await approvedGrant();
    await h.db.query("UPDATE grants SET principal_id = $2 WHERE id = $1", [other.id, outsider.id]);
    await expect(h.broker.grants.issue(other.id, notLast)).rejects.toThrow(changedOutside);
    expect(sandbox.issued).toEqual([]);
  });

  it("an issuing grant whose attempt count was set back, its MAC kept, is not issued: the count does not vouch for it", async () => {
    const grant = await approvedGrant();
    // An attempt that waits to be retried; then its count is set back, so that the next count makes
    // the row match its MAC again.
    await h.deps.store.transaction((r) => r.grants.beginIssueAttempt(grant.id, h.clock.now));
    await h.db.query("UPDATE grants SET issue_attempts = issue_attempts - 1 WHERE id = $1", [grant.id]);
    await expect(h.broker.grants.issue(grant.id, notLast)).rejects.toThrow(changedOutside);
    expect(sandbox.issued).toEqual([]);
    expect(await stateOf(grant.id)).toBe("failed");
  });

  it("an issuing grant inserted by hand is not issued", async () => {
    const id = randomUUID();
    await h.db.query(
      `INSERT INTO grants (id, target_id, principal_id, state, duration_seconds, created_at, updated_at)
       VALUES ($1, 'prod-readonly', $2, 'issuing', 3600, now(), now())`,
      [id, outsider.id],
    );
    await expect(h.broker.grants.issue(id, notLast)).rejects.toThrow(changedOutside);
    expect(sandbox.issued).toEqual([]);
    expect(await stateOf(id)).toBe("failed");
  });

  it("an active grant whose MAC was removed delivers nothing and audits no read", async () => {
    const grant = await activeGrant();
    await h.db.query("UPDATE grants SET mac = NULL WHERE id = $1", [grant.id]);
    await expect(h.broker.grants.credentials(requester, grant.id)).rejects.toThrow(changedOutside);
    const audited = await h.deps.store.read((r) =>
      r.audit.list({ afterSeq: 0, limit: 100, subjectId: grant.id }),
    );
    expect(audited.map((e) => e.action)).not.toContain("grant.credentials_read");
  });

  it("a row put back as it was is sealed again, and Leasehold's own writes keep it sealed", async () => {
    const grant = await activeGrant();
    await h.db.query("UPDATE grants SET principal_id = $2 WHERE id = $1", [grant.id, outsider.id]);
    await h.db.query("UPDATE grants SET principal_id = $2 WHERE id = $1", [grant.id, requester.id]);
    expect((await h.broker.grants.credentials(requester, grant.id)).secret.kind).toBe("aws-session");
  });
});

// A lease's credential is handed over by the transaction that activates it, not read back afterwards.
describe("a lease row changed outside Leasehold while its credential is being issued", () => {
  const app = ordersServiceAccount;
  const leaseTarget = awsRoleTargetSchema.parse({
    id: "orders-role",
    kind: "aws-role",
    maxDuration: "2h",
    defaultDuration: "15m",
    leases: [{ provider: "k8s", subject: "system:serviceaccount:orders:*", maxTtl: "20m" }],
    aws: { roleArn: ROLE_ARN },
  });
  let h: Harness;
  /** What someone with write access to the database does while the backend is creating the credential. */
  let meanwhile: (grantId: string) => Promise<void> = async () => {};
  const provider: CredentialProvider = {
    ...willing,
    issue: async (input) => {
      await meanwhile(input.grant.id);
      return willing.issue(input);
    },
  };

  beforeAll(async () => {
    h = await createHarness("pglite", provider, { targets: [leaseTarget] });
  });
  afterAll(() => h.close());

  it("is activated, so its credential ends at its deadline, but delivers nothing and audits no read", async () => {
    meanwhile = async (grantId) => {
      await h.db.query("UPDATE grants SET duration_seconds = 7200 WHERE id = $1", [grantId]);
    };
    await expect(h.broker.leases.create(app, { targetId: leaseTarget.id })).rejects.toThrow(changedOutside);
    const [row] = await h.db.query<{ id: string; state: string; credential: Buffer | null }>(
      "SELECT id, state, credential FROM grants",
    );
    expect(row).toMatchObject({ state: "active", credential: expect.any(Uint8Array) });
    const audited = await h.deps.store.read((r) =>
      r.audit.list({ afterSeq: 0, limit: 100, subjectId: row?.id ?? "" }),
    );
    expect(audited.map((e) => e.action)).toEqual(["grant.created", "grant.issued"]);
    expect(h.enqueued).toContainEqual(expect.objectContaining({ queue: "expire", grantId: row?.id }));
  });
});
