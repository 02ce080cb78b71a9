import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  type App,
  type Logger as BoltLogger,
  defaultBodyLimit,
  HTTPModuleFunctions,
  HTTPReceiver,
  type Receiver,
} from "@slack/bolt";
import type { Logger } from "pino";
import { checkSlackRequest, type ReplayCache } from "./slack-request-check.js";

/** Slack sends a request's body at once: a client still sending after this long is not Slack. */
const REQUEST_TIMEOUT_MS = 10_000;

class BodyTooLarge extends Error {}

/** The raw body, up to `limit` bytes (Bolt's own limit). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(new BodyTooLarge());
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/**
 * Bolt's HTTP receiver behind Leasehold's own check of every request (slack-request-check.ts): the
 * timestamp window both ways, the signature, and the replay cache shared by all replicas. A refused
 * request is answered 401 (503 while the replay cache is unreachable) with no body, and Bolt never sees
 * it, so no listener runs and nothing changes. An accepted request is handed to Bolt with the body
 * already read, and Bolt checks the signature once more itself: with the secret that signed it, since
 * during a switch of signing secret the previous one is accepted too (one Bolt receiver per secret).
 */
export class CheckedHttpReceiver implements Receiver {
  readonly #bolts: readonly HTTPReceiver[];
  readonly #signingSecrets: readonly string[];
  readonly #replay: ReplayCache;
  readonly #boltLogger: BoltLogger;
  readonly #log: Logger;
  #server: Server | undefined;

  constructor(options: {
    /** The current signing secret, then the previous one while Slack may still sign with it. */
    signingSecrets: readonly [string, ...string[]];
    replay: ReplayCache;
    boltLogger: BoltLogger;
    log: Logger;
  }) {
    this.#signingSecrets = options.signingSecrets;
    this.#replay = options.replay;
    this.#boltLogger = options.boltLogger;
    this.#log = options.log;
    this.#bolts = options.signingSecrets.map(
      (signingSecret) =>
        new HTTPReceiver({
          signingSecret,
          logger: options.boltLogger,
          // Answer Slack as soon as a listener acks, and do the work after: Slack gives up after 3 s. A
          // listener that must answer with the outcome (a modal's errors) does its work before its ack.
          processBeforeResponse: false,
        }),
    );
  }

  init(app: App): void {
    for (const bolt of this.#bolts) bolt.init(app);
  }

  start(options: { port: number; host: string }): Promise<Server> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        this.#log.error({ err: error }, "slack request handling failed");
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, () => {
        this.#server = server;
        resolve(server);
      });
    });
  }

  stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeIdleConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let rawBody: Buffer;
    try {
      rawBody = await readBody(req, defaultBodyLimit);
    } catch (error) {
      res.writeHead(error instanceof BodyTooLarge ? 413 : 400, { connection: "close" }).end();
      return;
    }
    const verdict = await checkSlackRequest({
      headers: req.headers,
      rawBody,
      signingSecrets: this.#signingSecrets,
      nowMs: Date.now(),
      replay: this.#replay,
    });
    if (!verdict.ok) {
      this.#log.warn(
        { status: verdict.status, reason: verdict.reason },
        "refused a request to the Slack endpoint",
      );
      res.writeHead(verdict.status).end();
      return;
    }
    // Bolt reads a request's body from `rawBody` when it is already there (its BufferedIncomingMessage).
    Object.assign(req, { rawBody });
    const bolt = this.#bolts[verdict.secretIndex];
    if (!bolt) throw new Error("no Bolt receiver for the secret that signed the request");
    try {
      bolt.requestListener(req, res);
    } catch (error) {
      // An unknown path: Bolt's own answer (404), as its receiver gives it.
      HTTPModuleFunctions.defaultDispatchErrorHandler({
        error: error as Error,
        logger: this.#boltLogger,
        request: req,
        response: res,
      });
    }
  }
}
