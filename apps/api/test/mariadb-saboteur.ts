import net from "node:net";
import mysql from "mysql2/promise";
import { eventually } from "./stack.js";

/** The MySQL protocol's COM_QUERY command byte: a text statement follows. */
const COM_QUERY = 0x03;

/**
 * Ends Leasehold's MariaDB admin connections in the middle of a statement, deterministically, in two
 * ways. Timing alone (killing "soon after" a statement starts) would mostly hit between statements.
 *
 * - Killed by the server: one session holds the grant tables (LOCK TABLES mysql.global_priv WRITE),
 *   so every CREATE USER, GRANT and DROP USER on the server waits for a metadata lock; a second session
 *   finds the admin connection waiting inside the statement and runs KILL CONNECTION on it. The lock
 *   holds every account change on the server, other tests' too, so hold it only for the seconds a
 *   scenario needs; closing the saboteur releases it whatever happened.
 * - Cut on the wire: Leasehold connects through `url`, a TCP proxy that, when armed, drops both sides
 *   of the connection that sends the next statement starting with a given prefix. The statement never
 *   reaches the server, and the ones before it stay committed (MariaDB's DDL commits one by one).
 */
export type MariaDbSaboteur = {
  /** The admin URL through the proxy, for Leasehold. */
  readonly url: string;
  /** From now on, account statements on the server wait (until `releaseGrantTables`). */
  holdGrantTables(): Promise<void>;
  releaseGrantTables(): Promise<void>;
  /**
   * Waits until a connection to the database is blocked inside a statement starting with `prefix`
   * (e.g. "CREATE USER"), kills that connection, and resolves with the Leasehold user the statement
   * named (not the statement: a CREATE USER holds a password).
   */
  killBlocked(prefix: string, timeoutMs?: number): Promise<string>;
  /**
   * Arms the proxy: the next statement starting with `prefix` cuts its connection. Cuts armed
   * together happen in order. Resolves with the Leasehold user the cut statement named.
   */
  cutOnNext(prefix: string): Promise<string>;
  /** Forgets the cuts armed and not yet made. */
  disarm(): void;
  close(): Promise<void>;
};

/** `adminUrl`: a root URL naming `database`, the one whose admin connections are to be ended. */
export async function startMariaDbSaboteur(adminUrl: string, database: string): Promise<MariaDbSaboteur> {
  const upstream = new URL(adminUrl);
  const [locker, killer] = await Promise.all([
    mysql.createConnection(adminUrl),
    mysql.createConnection(adminUrl),
  ]);
  const cuts: { prefix: string; done: (user: string) => void }[] = [];
  const sockets = new Set<net.Socket>();

  const proxy = net.createServer((client) => {
    const server = net.connect(Number(upstream.port || 3306), upstream.hostname);
    sockets.add(client).add(server);
    const drop = () => {
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };
    client.on("error", drop).on("close", drop);
    server.on("error", drop).on("close", drop);
    server.pipe(client);
    // Client to server packet by packet (3-byte length, sequence byte, payload), to see each statement.
    let pending = Buffer.alloc(0);
    client.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const end = 4 + pending.readUIntLE(0, 3);
        if (pending.length < end) return;
        const packet = pending.subarray(0, end);
        pending = pending.subarray(end);
        const next = cuts[0];
        if (next && packet[4] === COM_QUERY && packet.subarray(5).toString().startsWith(next.prefix)) {
          cuts.shift();
          drop();
          next.done(leasedUser(packet.subarray(5).toString()));
          return;
        }
        server.write(packet);
      }
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const port = (proxy.address() as net.AddressInfo).port;
  const url = new URL(adminUrl);
  url.host = `127.0.0.1:${port}`;

  return {
    url: url.toString(),
    async holdGrantTables() {
      await locker.query("LOCK TABLES mysql.global_priv WRITE");
    },
    async releaseGrantTables() {
      await locker.query("UNLOCK TABLES");
    },
    async killBlocked(prefix, timeoutMs = 20_000) {
      const victim = await eventually(
        async () => {
          const [rows] = await killer.query<mysql.RowDataPacket[]>(
            `SELECT ID AS id, INFO AS info FROM information_schema.PROCESSLIST
              WHERE DB = ? AND ID <> CONNECTION_ID() AND INFO LIKE ? AND STATE LIKE '%metadata lock%'`,
            [database, `${prefix}%`],
          );
          const row = rows[0];
          return row ? { id: Number(row.id), user: leasedUser(String(row.info)) } : undefined;
        },
        timeoutMs,
        `a connection blocked in ${prefix}`,
      );
      await killer.query("KILL CONNECTION ?", [victim.id]);
      return victim.user;
    },
    cutOnNext: (prefix) => new Promise((done) => cuts.push({ prefix, done })),
    disarm: () => {
      cuts.length = 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => proxy.close(resolve));
      await Promise.all([locker.end(), killer.end()]);
    },
  };
}

/** The first quoted Leasehold user name in a statement, or "". */
const leasedUser = (statement: string) => /'(lh_[a-z0-9_]+)'/.exec(statement)?.[1] ?? "";
