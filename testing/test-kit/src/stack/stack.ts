import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Database } from "@leasehold/db";
import { createPostgresDatabase } from "@leasehold/db/testing";
import { type AwsSandbox, SANDBOX_ACCESS_KEY as SANDBOX_KEY } from "@leasehold/sandbox";
import { createTRPCClient, httpLink } from "@trpc/client";
import type { AnyTRPCRouter } from "@trpc/server";
import { Redis } from "ioredis";
import { truncateQueueTables } from "../queue/scratch-queue-store.js";

/**
 * Runs the real API and worker as child processes against real PostgreSQL and Redis, the AWS
 * stand-in on loopback, and a test OIDC issuer, for the end-to-end tests.
 */

const repoRoot = fileURLToPath(new URL("../../../..", import.meta.url));
type AppName = "api" | "worker" | "slack-bot";
const appDir = (app: AppName) => join(repoRoot, "apps", app);

export type StackOptions = {
  sandbox: AwsSandbox;
  /** leasehold.yaml; `{issuer}` is replaced by the test issuer's URL. */
  config: string;
  issuerUrl: string;
  sweepIntervalSeconds?: number;
  jobLockSeconds?: number;
  /** More environment for every process (Slack settings, for example). */
  env?: Record<string, string>;
  /** More environment for one app's processes (a port of its own, such as METRICS_PORT). */
  appEnv?: Partial<Record<AppName, Record<string, string>>>;
  /** Also run the Slack bot (HTTP mode, on a free port). */
  slackBot?: boolean;
  /** How many Slack bot processes to run (default 1 with `slackBot`, else 0). */
  slackBots?: number;
  /** How many API processes to run (default 1); all share the one database and Redis. */
  apis?: number;
  /** How many worker processes to run (default 1). */
  workers?: number;
  /** Default: REDIS_URL, or the local server. */
  redisUrl?: string;
  /**
   * LEASEHOLD_QUEUE_BACKEND for every process. Default `redis`, set explicitly (the apps would pick
   * `postgres`, having DATABASE_URL), so that tests that kill or flush Redis act on the queues.
   */
  queueBackend?: "redis" | "postgres";
  /** The PostgreSQL server the stack's database is created on (admin URL); default: the test server. */
  databaseAdminUrl?: string;
  /**
   * Run the apps' builds (`node dist/main.js`, which must exist: `pnpm build`) instead of their
   * sources through tsx; benchmarks measure what is deployed.
   */
  built?: boolean;
};

/** The running stack; `TRouter` is the API's router type (`AppRouter` from @leasehold/api/router). */
export type Stack<TRouter extends AnyTRPCRouter> = {
  /** The first API's base URL. */
  apiUrl: string;
  /** Every API's base URL, in start order. */
  apiUrls: string[];
  /** The first Slack bot's base URL (POST `${botUrl}/slack/events`), when one runs. */
  botUrl: string | undefined;
  /** Every Slack bot's base URL. */
  botUrls: string[];
  db: Database;
  /** The stack's database, as its processes reach it. */
  databaseUrl: string;
  queuePrefix: string;
  /** Everything both processes wrote to stdout and stderr. */
  output(): string;
  /** A client of the API at `replica` (an index into `apiUrls`; default the first). */
  client(token: string, replica?: number): ReturnType<typeof createTRPCClient<TRouter>>;
  startWorker(): Promise<void>;
  /** Kills the worker started last at once (SIGKILL): no shutdown, no cleanup. */
  killWorker(): void;
  /** Resolves once the worker killed (or started) last has exited. */
  workerExited(): Promise<void>;
  /** Process ids of the running workers, for measuring them. */
  workerPids(): number[];
  /** Redis as the worker sees it, for deleting its jobs. */
  redis: Redis;
  /**
   * The queue store loses every job, delayed job and job scheduler: the queue prefix's keys deleted on
   * Redis, the queue tables truncated on PostgreSQL.
   */
  loseQueuedJobs(): Promise<void>;
  stop(): Promise<void>;
};

/**
 * Starts the stack. The router type is a parameter so this kit need not depend on @leasehold/api (whose
 * own tests use the kit): `startStack<AppRouter>(options)`. Long because the processes, the database,
 * Redis and the config file share one cleanup path; the pieces inside are small closures.
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: the processes, the database, Redis and the config file share one cleanup path.
export async function startStack<TRouter extends AnyTRPCRouter>(
  options: StackOptions,
): Promise<Stack<TRouter>> {
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const db = await createPostgresDatabase(options.databaseAdminUrl);
  const queuePrefix = `lh-e2e-${randomUUID().slice(0, 8)}`;
  const configDir = mkdtempSync(join(tmpdir(), "lh-e2e-"));
  const configPath = join(configDir, "leasehold.yaml");
  writeFileSync(configPath, options.config.replaceAll("{issuer}", options.issuerUrl));

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    LEASEHOLD_CONFIG: configPath,
    LEASEHOLD_MASTER_KEY: randomBytes(32).toString("base64"),
    LEASEHOLD_QUEUE_PREFIX: queuePrefix,
    LEASEHOLD_QUEUE_BACKEND: options.queueBackend ?? "redis",
    LEASEHOLD_SWEEP_INTERVAL: String(options.sweepIntervalSeconds ?? 1),
    LEASEHOLD_JOB_LOCK_SECONDS: String(options.jobLockSeconds ?? 30),
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL_STS: options.sandbox.url,
    AWS_ENDPOINT_URL_IAM: options.sandbox.url,
    AWS_ACCESS_KEY_ID: SANDBOX_KEY.accessKeyId,
    AWS_SECRET_ACCESS_KEY: SANDBOX_KEY.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    HOST: "127.0.0.1",
    PORT: "0",
    SLACK_BOT_PORT: "0",
    LOG_LEVEL: "info",
    ...options.env,
  };

  let output = "";
  const children = new Set<ChildProcess>();
  const launch = (app: AppName, ready: RegExp) =>
    new Promise<{ child: ChildProcess; line: string }>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        options.built
          ? ["dist/main.js"]
          : ["--conditions=@leasehold/source", "--import", "tsx", "src/main.ts"],
        {
          cwd: appDir(app),
          env: { ...env, ...options.appEnv?.[app] },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      children.add(child);
      const timer = setTimeout(() => reject(new Error(`${app} did not start:\n${output}`)), 30_000);
      const onData = (chunk: Buffer) => {
        const text = chunk.toString("utf8");
        output += text;
        const line = text.split("\n").find((l) => ready.test(l));
        if (line) {
          clearTimeout(timer);
          resolve({ child, line });
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      child.on("exit", (code, signal) => {
        children.delete(child);
        if (code !== 0 && signal === null) {
          clearTimeout(timer);
          reject(new Error(`${app} exited with ${code}:\n${output}`));
        }
      });
    });

  const stopChildren = () =>
    Promise.all(
      [...children].map(
        (child) =>
          new Promise<void>((resolve) => {
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
            setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
          }),
      ),
    );
  let worker: ChildProcess | undefined;
  const workers = new Set<ChildProcess>();
  const startWorker = async () => {
    worker = (await launch("worker", /leasehold worker running/)).child;
    const started = worker;
    workers.add(started);
    started.once("exit", () => workers.delete(started));
  };
  const addressOf = (started: { line: string }) => (JSON.parse(started.line) as { address: string }).address;
  const times = (n: number) => Array.from({ length: n }, (_, i) => i);
  let apiUrls: string[];
  let botUrls: string[];
  try {
    // Replicas start one after another: at once, they would only compete for the same two cores.
    apiUrls = [];
    for (const _ of times(options.apis ?? 1))
      apiUrls.push(addressOf(await launch("api", /leasehold api listening/)));
    for (const _ of times(options.workers ?? 1)) await startWorker();
    botUrls = [];
    for (const _ of times(options.slackBots ?? (options.slackBot ? 1 : 0)))
      botUrls.push(addressOf(await launch("slack-bot", /leasehold slack bot listening/)));
  } catch (error) {
    // A stack that did not start leaves nothing behind: no process, database or config file.
    await stopChildren();
    await db.close();
    rmSync(configDir, { recursive: true, force: true });
    throw error;
  }
  const redis = new Redis(redisUrl);
  redis.on("error", () => undefined); // a test may kill Redis; calls still fail as they should

  const [apiUrl = ""] = apiUrls;
  return {
    apiUrl,
    apiUrls,
    botUrl: botUrls[0],
    botUrls,
    db,
    databaseUrl: db.url,
    queuePrefix,
    redis,
    async loseQueuedJobs() {
      if ((options.queueBackend ?? "redis") === "postgres") {
        await truncateQueueTables(
          (sql, params) => db.query(sql, params),
          `queue_${queuePrefix.replaceAll("-", "_")}`,
        );
        return;
      }
      const keys = await redis.keys(`${queuePrefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    },
    output: () => output,
    client(token, replica = 0) {
      const url = apiUrls[replica];
      if (url === undefined) throw new Error(`there is no API replica ${replica}`);
      return createTRPCClient<TRouter>({
        // The link is built for any router: its options depend on the router's transformer, which
        // TypeScript cannot resolve for a type parameter (the API has none).
        links: [
          httpLink<AnyTRPCRouter>({ url: `${url}/trpc`, headers: { authorization: `Bearer ${token}` } }),
        ],
      });
    },
    startWorker,
    killWorker() {
      worker?.kill("SIGKILL");
    },
    workerPids: () => [...workers].flatMap((w) => (w.pid === undefined ? [] : [w.pid])),
    workerExited: () =>
      new Promise<void>((resolve) => {
        if (!worker || worker.exitCode !== null || worker.signalCode !== null) resolve();
        else worker.once("exit", () => resolve());
      }),
    async stop() {
      await stopChildren();
      rmSync(configDir, { recursive: true, force: true });
      const keys = await redis.keys(`${queuePrefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
      await db.close();
    },
  };
}

/** Waits until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  what = "condition",
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
