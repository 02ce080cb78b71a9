import { randomBytes } from "node:crypto";
import { createScratchQueueStore, type ScratchQueueStore } from "@leasehold/test-kit";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { createQueueProducer, grantQueues } from "./grant-queues.js";
import { prepareQueueSchema } from "./postgres-queue-schema.js";
import type { PostgresQueueConnection } from "./queue-connection.js";
import { startQueueWorker } from "./queue-worker.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const run = async (url: string, sql: string) => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
};

/** A scratch database whose owner is the test's superuser, and an app role that owns nothing there. */
const separatedRoles = async () => {
  const store: ScratchQueueStore = await createScratchQueueStore("postgres");
  cleanups.push(() => store.close());
  if (store.connection.backend !== "postgres") throw new Error("expected a PostgreSQL store");
  const ownerUrl = store.connection.databaseUrl;
  const role = `lh_app_${randomBytes(4).toString("hex")}`;
  await run(ownerUrl, `CREATE ROLE ${role} LOGIN; REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
  cleanups.push(() => run(ownerUrl, `DROP OWNED BY ${role}; DROP ROLE ${role}`));
  const appUrl = new URL(ownerUrl);
  appUrl.username = role;
  const app: PostgresQueueConnection = { ...store.connection, databaseUrl: appUrl.toString() };
  return { ownerUrl, app };
};

describe("the queue schema with an application role that owns nothing", () => {
  it("the role cannot migrate it; migrated through the owner, the role's queues and workers run", async () => {
    const { ownerUrl, app } = await separatedRoles();
    const grantId = "9f1c2d3e-0000-4000-8000-000000000003";
    await expect(prepareQueueSchema(app)).rejects.toThrow(/set DATABASE_MIGRATION_URL/);

    const migrated = await prepareQueueSchema(app, ownerUrl);
    const producer = createQueueProducer(migrated);
    cleanups.push(() => producer.close());
    const ran = new Promise<string>((resolve) => {
      const worker = startQueueWorker("grantRevoke", async (payload) => resolve(payload.grantId), migrated);
      cleanups.push(() => worker.close());
    });
    await grantQueues(producer).revoke(grantId);
    expect(await ran).toBe(grantId);
  });

  it("a process without the owner's URL starts on a current schema without changing it", async () => {
    const { ownerUrl, app } = await separatedRoles();
    await prepareQueueSchema(app, ownerUrl);
    const again = await prepareQueueSchema(app);
    const producer = createQueueProducer(again);
    cleanups.push(() => producer.close());
    await grantQueues(producer).issue("9f1c2d3e-0000-4000-8000-000000000004");
  });
});
