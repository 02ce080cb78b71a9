import net from "node:net";
import { createSqlScratch, type SqlScratch } from "@leasehold/test-kit";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openMysqlAdmin } from "./mysql-admin.js";
import type { SqlAdmin } from "./sql-admin.js";
import { adminUrlSecrets, parseAdminUrl } from "./sql-admin-pool.js";
import { sqlRoleName } from "./sql-credentials.js";
import { sqlUpstreamError } from "./sql-errors.js";

const MYSQL_ROOT = "mysql://root@127.0.0.1:3306";
const TIMEOUTS = { lockMs: 1000, statementMs: 2000 };
/** Long past both timeouts: a wait this long means nothing bounded it. */
const GIVE_UP_MS = 8000;

/** The call's error, or "still waiting" once GIVE_UP_MS have passed. */
const outcome = (call: Promise<unknown>) =>
  Promise.race([
    call.then(
      () => "done",
      (error: unknown) => error,
    ),
    new Promise((resolve) => setTimeout(() => resolve("still waiting"), GIVE_UP_MS)),
  ]);

/**
 * A TCP proxy to MariaDB that can stop passing the client's bytes on, like a route that fails
 * without closing the connection (a failover, a dropped NAT entry): the client hears nothing, ever.
 */
async function stallableProxy() {
  let stalled = false;
  const sockets = new Set<net.Socket>();
  const proxy = net.createServer((client) => {
    const server = net.connect(3306, "127.0.0.1");
    sockets.add(client).add(server);
    const drop = () => {
      client.destroy();
      server.destroy();
    };
    client.on("error", drop).on("close", drop);
    server.on("error", drop).on("close", drop);
    server.pipe(client);
    client.on("data", (chunk: Buffer) => {
      if (!stalled) server.write(chunk);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return {
    port: (proxy.address() as net.AddressInfo).port,
    stall: (on: boolean) => {
      stalled = on;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}

describe("the MySQL admin's waits are bounded", () => {
  let scratch: SqlScratch;
  const admins: SqlAdmin[] = [];
  const open = (adminUrl: string) => {
    const admin = openMysqlAdmin({
      adminUrl,
      location: parseAdminUrl("mysql", adminUrl),
      secrets: adminUrlSecrets(adminUrl),
      maxConnections: 1,
      timeouts: TIMEOUTS,
    });
    admins.push(admin);
    return admin;
  };
  const retryable = (error: unknown) =>
    sqlUpstreamError(error, "creating the credential", { targetId: "t", engine: "mysql", secrets: [] })
      .retryable;

  beforeAll(async () => {
    scratch = await createSqlScratch("mysql");
  });
  afterAll(async () => {
    await Promise.all(admins.map((admin) => admin.close()));
    await scratch?.drop();
  });

  it("a CREATE USER behind another session's lock on the grant tables fails retryably instead of waiting as long as the lock is held", async () => {
    const admin = open(scratch.adminUrl);
    await admin.ping(); // the session is set up before the lock is taken
    const name = sqlRoleName(scratch.grantId(), 1);
    const locker = await mysql.createConnection(MYSQL_ROOT);
    let result: unknown;
    try {
      await locker.query("LOCK TABLES mysql.global_priv WRITE");
      result = await outcome(admin.run([`CREATE USER '${name}'@'%' IDENTIFIED BY 'x'`]));
    } finally {
      await locker.end(); // releases the lock
    }
    // MariaDB opens the grant tables ignoring lock_wait_timeout: only the client's timeout ends this.
    expect(result).toMatchObject({ code: "PROTOCOL_SEQUENCE_TIMEOUT" });
    expect(retryable(result)).toBe(true);
    // The next call gets a working connection, not the one the timed-out statement still occupies.
    await admin.ping();
    // Whether the abandoned CREATE USER ran once the lock was gone depends on whether the server saw
    // the connection close first; the provider's clean-up handles either (sql-provider.ts).
    await scratch.superuser(`DROP USER IF EXISTS '${name}'@'%'`);
  }, 20_000);

  it("a connection that stops answering mid-statement fails retryably, and the next call gets a new connection", async () => {
    const proxy = await stallableProxy();
    try {
      const url = new URL(scratch.adminUrl);
      url.host = `127.0.0.1:${proxy.port}`;
      const admin = open(url.toString());
      await admin.ping();
      proxy.stall(true);
      const result = await outcome(admin.run([`CREATE USER '${sqlRoleName(scratch.grantId(), 1)}'@'%'`]));
      // Without a bound, the client waits until TCP gives up: about 15 minutes on Linux.
      expect(result).toMatchObject({ code: "PROTOCOL_SEQUENCE_TIMEOUT" });
      expect(retryable(result)).toBe(true);
      proxy.stall(false);
      await admin.ping();
    } finally {
      await proxy.close();
    }
  }, 20_000);
});
