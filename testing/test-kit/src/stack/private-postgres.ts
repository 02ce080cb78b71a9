import { execFile, execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./free-port.js";

/**
 * A PostgreSQL cluster of the test's own (initdb into a temporary directory, on a free port), that the
 * test may crash and start again without touching the machine's shared server. PostgreSQL refuses to
 * run as root, so as root its commands run as the `postgres` user.
 */
export type PrivatePostgres = {
  /** Superuser URL of the `postgres` database, for creating test databases. */
  adminUrl: string;
  /** Stops it like a crash (`immediate`: no checkpoint, recovery from the WAL at the next start). */
  crash(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and deletes its files. */
  destroy(): Promise<void>;
};

function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0]) throw new Error(`no PostgreSQL server binaries under ${root} (apt install postgresql)`);
  return join(root, versions[0], "bin");
}

/** `maxConnections`: the server's max_connections (PostgreSQL's default, 100, when omitted). */
export async function startPrivatePostgres(
  options: { maxConnections?: number } = {},
): Promise<PrivatePostgres> {
  const bin = postgresBin();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "lh-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString());
    chownSync(dir, uid, gid);
  }
  // Asynchronous, so that stand-ins served by the test process keep answering meanwhile.
  const run = async (tool: string, args: string[]) => {
    const [command, argv] = asRoot
      ? ["runuser", ["-u", "postgres", "--", join(bin, tool), ...args]]
      : [join(bin, tool), args];
    try {
      await promisify(execFile)(command, argv as string[], { encoding: "utf8" });
    } catch (error) {
      const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
      throw new Error(`${tool} ${args.join(" ")} failed:\n${stdout}${stderr}`);
    }
  };
  const serverOptions =
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1` +
    (options.maxConnections !== undefined ? ` -c max_connections=${options.maxConnections}` : "");
  const start = () => run("pg_ctl", ["-D", data, "-o", serverOptions, "-l", join(dir, "log"), "-w", "start"]);

  await run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  await start();
  return {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    crash: () => run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]),
    start,
    async destroy() {
      await run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => {
        // Already stopped.
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
