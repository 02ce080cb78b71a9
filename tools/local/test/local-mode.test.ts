import { randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createPostgresDatabase, freePort, type LocalMode, startLocalMode } from "@leasehold/test-kit";
import { describe, expect, it } from "vitest";

/** Follows the walkthrough the banner prints: request, two approvals, the credentials. */
async function walkThrough(local: LocalMode): Promise<void> {
  const { address, dataDir, output } = local;
  const token = (who: string) => readFileSync(join(dataDir, "tokens", `${who}.jwt`), "utf8");
  const post = async (who: string, procedure: string, body: unknown) => {
    const response = await fetch(`${address}/trpc/${procedure}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token(who)}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return (await response.json()) as { result?: { data: Record<string, unknown> }; error?: unknown };
  };

  const created = await post("dev", "requests.create", {
    targetId: "sandbox-readonly",
    durationSeconds: 900,
    reason: "trying Leasehold",
  });
  const requestId = String(created.result?.data.id);
  await post("alice", "reviews.submit", { requestId, decision: "approve" });
  const approved = await post("bob", "reviews.submit", { requestId, decision: "approve" });
  const grantId = String(approved.result?.data.grantId);
  let credential: Record<string, unknown> | undefined;
  for (let i = 0; i < 100 && !credential; i++) {
    const answer = await post("dev", "grants.credentials", { grantId });
    credential = answer.result?.data.credential as Record<string, unknown> | undefined;
    if (!credential) await new Promise((r) => setTimeout(r, 100));
  }
  expect(credential?.accessKeyId).toMatch(/^ASIA/);
  expect(output()).not.toContain(String(credential?.secretAccessKey));
}

/** Runs `use` on a started local mode, then stops it and expects a clean exit. */
async function withLocalMode(local: LocalMode, use: (local: LocalMode) => Promise<void>): Promise<void> {
  try {
    await use(local);
  } catch (error) {
    await local.stop();
    throw error;
  }
  expect(await local.stop()).toBe(0);
}

/** The README's run command, as a newcomer uses it: start, follow the printed walkthrough, stop. */
describe("local mode", () => {
  it("starts with no settings and no Redis, serves the walkthrough it prints, and stops cleanly on SIGTERM", async () => {
    // Nothing listens where Redis would be: local mode needs only Node.
    const local = await startLocalMode({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    await withLocalMode(local, async () => {
      expect(local.output()).toMatch(/LOCAL MODE\. Not for production/);
      expect(statSync(join(local.dataDir, "master.key")).mode & 0o777).toBe(0o600);
      expect(statSync(join(local.dataDir, "postgres.password")).mode & 0o777).toBe(0o600);
      expect(local.output()).toMatch(/database\s+a PostgreSQL server of its own/);
      expect(local.output()).toMatch(/queues\s+PostgreSQL/);
      await walkThrough(local);
    });
  }, 180_000);

  it("with DATABASE_URL, its queues run on PostgreSQL: the walkthrough works with Redis down", async () => {
    const db = await createPostgresDatabase();
    try {
      const local = await startLocalMode({
        DATABASE_URL: db.url,
        LEASEHOLD_MASTER_KEY: randomBytes(32).toString("base64"),
        REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      });
      await withLocalMode(local, async () => {
        expect(local.output()).toMatch(/queues\s+PostgreSQL/);
        await walkThrough(local);
      });
    } finally {
      await db.close();
    }
  }, 180_000);
});
