import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** P5's bare server (bare-server.ts), started the way the end-to-end kit starts the API. */
export type BareServer = { readonly url: string; readonly pid: number; stop(): Promise<void> };

const benchDir = fileURLToPath(new URL("..", import.meta.url));
const START_TIMEOUT_MS = 30_000;

/** `databaseUrl`: Leasehold's database, for the fair floor's route (`/grants/<id>`); omitted: not served. */
export function startBareServer(options: { databaseUrl?: string } = {}): Promise<BareServer> {
  return new Promise((resolve, reject) => {
    // The same node flags as the API's process (stack.ts), and no inherited environment.
    const child = spawn(
      process.execPath,
      ["--conditions=@leasehold/source", "--import", "tsx", "src/bare-server.ts"],
      {
        cwd: benchDir,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          ...(options.databaseUrl ? { BARE_DATABASE_URL: options.databaseUrl } : {}),
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the bare server did not start:\n${output}`));
    }, START_TIMEOUT_MS);
    const exited = new Promise<void>((done) => child.once("exit", () => done()));
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const line = output.split("\n").find((l) => l.includes("bare server listening"));
      if (!line) return;
      clearTimeout(timer);
      child.stdout.off("data", onData);
      child.stderr.off("data", onData);
      resolve({
        url: (JSON.parse(line) as { address: string }).address,
        pid: child.pid ?? 0,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
          await exited;
        },
      });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the bare server exited with ${code}:\n${output}`));
    });
  });
}
