import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { Redis } from "ioredis";

/**
 * Slack's request signing, checked in full before Bolt sees a request. Bolt 5 refuses only old
 * timestamps and remembers nothing, so a request timestamped in the future stayed valid for as long as
 * its timestamp said, and any request could be sent again within 5 minutes. Here:
 *  - the timestamp must be within 5 minutes of this host's clock, in either direction;
 *  - the signature is `v0=` + hex HMAC-SHA256(signing secret, `v0:<timestamp>:<raw body>`), compared in
 *    constant time; during a switch of signing secret (README, "Rotating Slack credentials without
 *    downtime") the previous secret's signature is accepted too, each compared in constant time;
 *  - each signature is accepted once: the first replica to see it claims it in the replay cache (Redis,
 *    or PostgreSQL in the PostgreSQL-only mode, shared by every replica), and any later copy is refused
 *    for as long as its timestamp could still pass.
 */

/** How far a request's timestamp may be from this host's clock, either way. */
export const SLACK_REQUEST_WINDOW_SECONDS = 300;

/**
 * How long a claimed signature is remembered. A request accepted at `now` has a timestamp within
 * `now ± window`, so it could pass the timestamp check until at most `now + 2 × window`.
 */
export const REPLAY_MEMORY_MS = 2 * SLACK_REQUEST_WINDOW_SECONDS * 1000;

/** Remembers accepted signatures across every replica of the bot. */
export type ReplayCache = {
  /**
   * Claims `key` for `ttlMs`: true when it was not claimed before (this request is the first), false
   * when it was (a replay). Rejects when the cache cannot be reached.
   */
  claim(key: string, ttlMs: number): Promise<boolean>;
};

/**
 * The replay cache in Redis: `SET <prefix>:slack-replay:<sha256 of the signature> 1 NX PX <ttl>`. NX
 * makes the claim atomic across replicas: of two copies of a request, exactly one gets "OK".
 */
export function redisReplayCache(redis: Redis, prefix: string): ReplayCache {
  return {
    claim: async (key, ttlMs) =>
      (await redis.set(`${prefix}:slack-replay:${key}`, "1", "PX", ttlMs, "NX")) === "OK",
  };
}

export type SlackRequestVerdict =
  /** `secretIndex`: which of the signing secrets made the signature (0: the current one). */
  | { readonly ok: true; readonly secretIndex: number }
  | { readonly ok: false; readonly status: 401 | 503; readonly reason: string };

const refused = (reason: string): SlackRequestVerdict => ({ ok: false, status: 401, reason });

/** A header's single value, or undefined when it is missing or repeated. */
const single = (value: string | string[] | undefined) => (typeof value === "string" ? value : undefined);

/**
 * Checks one request: timestamp window, signature, then the replay cache (only for a request whose
 * signature is valid, so nobody without the signing secret can write to the cache). 401 for a request
 * that is not Slack's or not new; 503 when the replay cache cannot be reached, because then a replay
 * cannot be ruled out. Reasons never contain a header value or the body.
 */
export async function checkSlackRequest(input: {
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** The current signing secret, then the previous one while Slack may still sign with it. */
  signingSecrets: readonly string[];
  nowMs: number;
  replay: ReplayCache;
}): Promise<SlackRequestVerdict> {
  const timestamp = single(input.headers["x-slack-request-timestamp"]);
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp)) {
    return refused("missing or malformed x-slack-request-timestamp");
  }
  const skew = Math.floor(input.nowMs / 1000) - Number(timestamp);
  if (Math.abs(skew) > SLACK_REQUEST_WINDOW_SECONDS) {
    return refused(`timestamp ${skew > 0 ? "older" : "further in the future"} than 5 minutes`);
  }
  const signature = single(input.headers["x-slack-signature"]);
  const given = signature?.match(/^v0=([0-9a-f]{64})$/)?.[1];
  if (signature === undefined || given === undefined)
    return refused("missing or malformed x-slack-signature");
  const givenBytes = Buffer.from(given, "hex");
  // Every secret is tried, so the time taken does not depend on which one (if any) matched.
  const matches = input.signingSecrets.map((secret) =>
    timingSafeEqual(
      givenBytes,
      createHmac("sha256", secret).update(`v0:${timestamp}:`).update(input.rawBody).digest(),
    ),
  );
  const secretIndex = matches.indexOf(true);
  if (secretIndex === -1) return refused("signature mismatch");
  let first: boolean;
  try {
    first = await input.replay.claim(createHash("sha256").update(signature).digest("hex"), REPLAY_MEMORY_MS);
  } catch {
    return { ok: false, status: 503, reason: "the replay cache cannot be reached" };
  }
  return first ? { ok: true, secretIndex } : refused("replayed: this signature was already accepted");
}
