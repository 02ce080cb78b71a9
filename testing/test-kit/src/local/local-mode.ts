import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";

const repoRoot = fileURLToPath(new URL("../../../..", import.meta.url));

export type LocalMode = {
  /** The API's base URL, as the banner prints it. */
  address: string;
  dataDir: string;
  /** Everything the process wrote. */
  output(): string;
  /**
   * SIGTERM, then the exit code; also removes the run's Redis keys, its state folder and the data of
   * the PostgreSQL server it started (wherever the banner says it is).
   */
  stop(): Promise<number | null>;
  child: ChildProcess;
};

/**
 * Starts local mode (the README's run command) as a process with its own state folder and Redis prefix;
 * `env` adds settings (DATABASE_URL, REDIS_URL, ...).
 */
export async function startLocalMode(env: Record<string, string> = {}): Promise<LocalMode> {
  const dataDir = join(mkdtempSync(join(tmpdir(), "lh-local-")), "state");
  const prefix = `lh-local-${randomUUID().slice(0, 8)}`;
  const child = spawn(
    process.execPath,
    ["--conditions=@leasehold/source", "--import", "tsx", "tools/local/src/main.ts"],
    {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LEASEHOLD_DATA_DIR: dataDir,
        LEASEHOLD_QUEUE_PREFIX: prefix,
        PORT: "0",
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local mode did not start:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const match = /API\s+(http:\/\/127\.0\.0\.1:\d+)\/trpc/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    // A process that exits before listening will never listen: say why at once, not at the timeout.
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`local mode exited with code ${code} before it started:\n${output}`));
    });
  });
  return {
    address,
    dataDir,
    child,
    output: () => output,
    async stop() {
      child.kill("SIGTERM");
      const code = await exited;
      const postgresData = /data in (\S+)/.exec(output)?.[1];
      if (postgresData) rmSync(postgresData, { recursive: true, force: true });
      rmSync(dirname(dataDir), { recursive: true, force: true });
      const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
      redis.on("error", () => undefined);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
      return code;
    },
  };
}
