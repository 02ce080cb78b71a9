import { ConfigError } from "@leasehold/config";
import { type Logger, pino } from "pino";

/**
 * Field paths pino removes from every log line, whatever logs them: a second line of defence behind
 * the rule that no secret is ever passed to a logger.
 */
const REDACT = [
  "req.headers.authorization",
  "req.headers.cookie",
  "*.authorization",
  "*.secretAccessKey",
  "*.sessionToken",
  "*.password",
  "*.token",
  "secret",
  "*.secret",
];

/** The process logger: JSON lines on stdout, tagged with the app's name. */
export function createLogger(app: string, level: string): Logger {
  return pino({ name: app, level, redact: { paths: REDACT, censor: "[redacted]" } });
}

/**
 * Runs an app's main function. A configuration problem ends the process with its message (which says
 * what to fix) and exit code 78 (EX_CONFIG), without a stack trace; anything else is a crash.
 */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    process.stderr.write(
      `fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}

/** Calls `stop` once on SIGTERM or SIGINT, then exits; a second signal exits at once. */
export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, "shutting down");
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", handle);
  process.once("SIGINT", handle);
}
