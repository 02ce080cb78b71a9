import { App, type Logger as BoltLogger, LogLevel } from "@slack/bolt";
import type { Logger as PinoLogger } from "pino";
import type { BotDeps } from "./bot-deps.js";
import { CheckedHttpReceiver } from "./checked-receiver.js";
import type { SlackConnection } from "./env.js";
import { registerGrantListeners } from "./grant-listeners.js";
import { registerRequestListeners } from "./request-listeners.js";
import { registerReviewListeners } from "./review-listeners.js";
import type { ReplayCache } from "./slack-request-check.js";
import { traceInteractions } from "./traced-interactions.js";

/** Bolt's logger interface over the process's pino logger (Bolt never logs request bodies at info). */
function boltLogger(log: PinoLogger): BoltLogger {
  return {
    debug: (...msg) => log.debug(msg.map(String).join(" ")),
    info: (...msg) => log.info(msg.map(String).join(" ")),
    warn: (...msg) => log.warn(msg.map(String).join(" ")),
    error: (...msg) => log.error(msg.map(String).join(" ")),
    setLevel: () => {},
    getLevel: () => LogLevel.INFO,
    setName: () => {},
  };
}

/** Bolt's HTTP receiver behind Leasehold's checks of each request. */
function checkedReceiver(
  signingSecrets: readonly [string, ...string[]],
  replay: ReplayCache | undefined,
  boltLogger: BoltLogger,
  log: PinoLogger,
): CheckedHttpReceiver {
  if (!replay) throw new Error("the Slack bot over HTTP needs a replay cache");
  return new CheckedHttpReceiver({ signingSecrets, replay, boltLogger, log });
}

/**
 * The Bolt app: over HTTP with every request checked before Bolt sees it (signature, timestamp within
 * 5 minutes either way, not a replay: see checked-receiver.ts), for production; or over Socket Mode
 * (development). `apiUrl` redirects the Web API (tests point it at the stand-in).
 */
export function createSlackApp(
  connection: SlackConnection,
  deps: BotDeps & {
    pino: PinoLogger;
    apiUrl?: string | undefined;
    /** Signatures already accepted, shared by every replica; required over HTTP. */
    replay?: ReplayCache | undefined;
  },
): App {
  const logger = boltLogger(deps.pino);
  const app = new App({
    token: connection.botToken,
    ...(connection.mode === "http"
      ? {
          receiver: checkedReceiver(
            connection.previousSigningSecret === undefined
              ? [connection.signingSecret]
              : [connection.signingSecret, connection.previousSigningSecret],
            deps.replay,
            logger,
            deps.pino,
          ),
        }
      : { socketMode: true, appToken: connection.appToken }),
    logger,
    // Initialized by startSlackBot, which turns an unreachable Slack into a clear error, not a crash.
    deferInitialization: true,
    // Nothing kept in this process's memory that another replica would need.
    convoStore: false,
    clientOptions: {
      ...(deps.apiUrl ? { slackApiUrl: deps.apiUrl.endsWith("/") ? deps.apiUrl : `${deps.apiUrl}/` } : {}),
      retryConfig: { retries: 1 },
      timeout: 5_000,
    },
  });
  traceInteractions(app);
  registerRequestListeners(app, deps);
  registerReviewListeners(app, deps);
  registerGrantListeners(app, deps);
  return app;
}
