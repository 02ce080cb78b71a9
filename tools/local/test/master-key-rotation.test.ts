import { randomBytes, randomUUID } from "node:crypto";
import { checkpointKeyOf, deriveKeys, masterKeyId, parseConfig } from "@leasehold/config";
import { createLogger, type OpenBroker, openBroker } from "@leasehold/runtime";
import { createPostgresDatabase, PEOPLE, type Person, TEST_CONFIG, testRedisUrl } from "@leasehold/test-kit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * A master key rotation through the real wiring (openBroker, as every app opens it), on PostgreSQL and
 * Redis: processes on the old key write, processes on the new key with the old one as previous read
 * it, link the audit trail over, re-seal the grant rows, and serve the old checkpoint key; a process
 * that no longer holds the old key names what it cannot verify.
 */
const who = (person: Person) => ({
  id: PEOPLE[person].email,
  kind: "human" as const,
  provider: "corp",
  subject: `sub-${person}`,
  groups: [...PEOPLE[person].groups],
});

describe("rotating the master key", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  const queuePrefix = `lh-mkey-${randomUUID().slice(0, 8)}`;
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const config = parseConfig(TEST_CONFIG.replaceAll("{issuer}", "https://idp.example.com"), "leasehold.yaml");
  const log = createLogger("leasehold-test", "silent");
  const opened: OpenBroker[] = [];
  const open = async (masterKey: Buffer, previousMasterKeys: Buffer[] = []) => {
    const broker = await openBroker({
      config,
      databaseUrl: database.url,
      dataDir: "unused",
      queue: { backend: "redis", redisUrl: testRedisUrl(), prefix: queuePrefix },
      masterKey,
      previousMasterKeys,
      aws: { region: "us-east-1" },
      log,
    });
    opened.push(broker);
    return broker.broker;
  };
  /** A request for prod-readonly, approved by two approvers: its grant row waits to be issued. */
  const approvedGrant = async (broker: Awaited<ReturnType<typeof open>>) => {
    const { request } = await broker.requests.create(who("dev"), {
      targetId: "prod-readonly",
      reason: "INC-7 investigation",
      durationSeconds: 900,
      ticket: "INC-7",
    });
    await broker.reviews.submit(who("alice"), { requestId: request.id, decision: "approve" });
    await broker.reviews.submit(who("bob"), { requestId: request.id, decision: "approve" });
  };

  beforeAll(async () => {
    database = await createPostgresDatabase();
  });
  afterAll(async () => {
    for (const o of opened) await o.close();
    await database?.close();
    const redis = new Redis(testRedisUrl());
    const keys = await redis.keys(`${queuePrefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it("moves an installation from the old key to the new one and verifies the trail across the change", async () => {
    const before = await open(oldKey);
    await approvedGrant(before);
    const after = await open(newKey, [oldKey]);
    // Grant rows MACed under the old key are still sealed for the new process, and re-sealed by it.
    const sec = who("sec");
    expect(await after.reseal.remaining()).toMatchObject({ grantMacs: 1 });
    await approvedGrant(after);
    expect(await after.reseal.run()).toMatchObject({ read: 1, unmoved: [] });
    expect(await after.reseal.remaining()).toEqual({
      credentials: 0,
      stagedValues: 0,
      grantMacs: 0,
      vaultSecretIds: 0,
    });

    const trail = await after.audit.list(sec, { afterSeq: 0, limit: 100 });
    const changes = trail.filter((e) => e.action === "audit.key_changed");
    expect(changes).toHaveLength(1);
    expect(changes[0]?.data).toMatchObject({ fromKeyId: masterKeyId(oldKey), toKeyId: masterKeyId(newKey) });
    expect(await after.audit.verify(sec)).toMatchObject({ ok: true, problems: [] });

    // Checkpoints signed before the change still verify with the key the API serves as previous.
    const served = after.audit.publicKey(sec);
    expect(served.keyId).toBe(checkpointKeyOf(deriveKeys(newKey).auditCheckpoint).keyId);
    expect(served.previous).toEqual([
      {
        keyId: checkpointKeyOf(deriveKeys(oldKey).auditCheckpoint).keyId,
        publicKeyPem: checkpointKeyOf(deriveKeys(oldKey).auditCheckpoint).publicKeyPem,
      },
    ]);

    // With the old key dropped, what was linked under it cannot be checked, and verify says so.
    const dropped = await open(newKey);
    const result = await dropped.audit.verify(sec);
    expect(result.ok).toBe(false);
    expect(result.problems[0]?.problem).toMatch(
      new RegExp(`^is under key ${masterKeyId(oldKey)}, which is not in the keyring`),
    );
  });
});
