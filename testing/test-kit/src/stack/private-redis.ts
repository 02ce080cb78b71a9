import { type ChildProcess, spawn } from "node:child_process";
import { Redis } from "ioredis";
import { freePort } from "./free-port.js";

/**
 * A redis-server of the test's own, on a free port, that the test may kill, bring back and flush
 * without touching the machine's shared Redis. Like that one, it keeps nothing on disk, so killing it
 * loses every job, as a Redis without persistence does when it crashes.
 */
export type PrivateRedis = {
  url: string;
  /** SIGKILL: no shutdown, nothing saved. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty; does nothing while it runs. */
  start(): Promise<void>;
  flushAll(): Promise<void>;
  /** INFO memory's used_memory, in bytes. */
  usedMemory(): Promise<number>;
  stop(): Promise<void>;
};

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const isRunning = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      if (isRunning()) return resolve();
      const server = spawn(
        "redis-server",
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          "no",
          "--daemonize",
          "no",
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      child = server;
      let output = "";
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
      server.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString("utf8");
        if (output.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
      server.once("error", (error) => {
        clearTimeout(timer);
        reject(new Error(`redis-server could not be run (is it installed?): ${error.message}`));
      });
      server.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${output}`));
      });
    });

  const kill = () =>
    new Promise<void>((resolve) => {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null || running.signalCode !== null) return resolve();
      running.once("exit", () => resolve());
      running.kill("SIGKILL");
    });

  const command = async <T>(work: (redis: Redis) => Promise<T>) => {
    const redis = new Redis(url, { maxRetriesPerRequest: 1 });
    try {
      return await work(redis);
    } finally {
      redis.disconnect();
    }
  };

  await start();
  return {
    url,
    kill,
    start,
    flushAll: () => command(async (redis) => void (await redis.flushall())),
    usedMemory: () =>
      command(async (redis) =>
        Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? Number.NaN),
      ),
    stop: kill,
  };
}
