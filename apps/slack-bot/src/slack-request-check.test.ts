import { randomBytes } from "node:crypto";
import { signSlackRequest } from "@leasehold/sandbox";
import { describe, expect, it } from "vitest";
import {
  checkSlackRequest,
  REPLAY_MEMORY_MS,
  type ReplayCache,
  SLACK_REQUEST_WINDOW_SECONDS,
} from "./slack-request-check.js";

const signingSecret = randomBytes(32).toString("hex");
const NOW_MS = 1_764_900_000_000;
const NOW = NOW_MS / 1000;
const body = "command=%2Faccess&user_id=U0ALICE01&trigger_id=1.2.3";

/** An in-memory stand-in for Redis's SET NX PX, with the ttl it was given. */
function memoryCache() {
  const claimed = new Map<string, number>();
  const cache: ReplayCache = {
    claim: async (key, ttlMs) => {
      if (claimed.has(key)) return false;
      claimed.set(key, ttlMs);
      return true;
    },
  };
  return { cache, claimed };
}

const check = (headers: Record<string, string>, replay: ReplayCache = memoryCache().cache, raw = body) =>
  checkSlackRequest({
    headers,
    rawBody: Buffer.from(raw),
    signingSecrets: [signingSecret],
    nowMs: NOW_MS,
    replay,
  });

describe("a Slack request's timestamp, signature and freshness", () => {
  it.each([0, 1, -1, SLACK_REQUEST_WINDOW_SECONDS, -SLACK_REQUEST_WINDOW_SECONDS])(
    "accepts a timestamp %i s from now",
    async (offset) => {
      expect(await check(signSlackRequest({ signingSecret, body, timestamp: NOW + offset }))).toEqual({
        ok: true,
        secretIndex: 0,
      });
    },
  );

  it.each([SLACK_REQUEST_WINDOW_SECONDS + 1, -SLACK_REQUEST_WINDOW_SECONDS - 1, 600, -600, 86_400])(
    "refuses a correctly signed timestamp %i s from now",
    async (offset) => {
      const { cache, claimed } = memoryCache();
      const verdict = await check(signSlackRequest({ signingSecret, body, timestamp: NOW + offset }), cache);
      expect(verdict).toMatchObject({ ok: false, status: 401 });
      expect(claimed.size).toBe(0);
    },
  );

  it.each([
    ["no timestamp", { "x-slack-signature": `v0=${"0".repeat(64)}` }],
    [
      "a timestamp that is not a number",
      { "x-slack-request-timestamp": "1e9", "x-slack-signature": "v0=00" },
    ],
    ["no signature", { "x-slack-request-timestamp": String(NOW) }],
    [
      "an unknown version",
      { "x-slack-request-timestamp": String(NOW), "x-slack-signature": `v1=${"0".repeat(64)}` },
    ],
  ])("refuses %s", async (_, headers) => {
    expect(await check(headers)).toMatchObject({ ok: false, status: 401 });
  });

  it("refuses a signature over another body, and one made with another secret", async () => {
    const headers = signSlackRequest({ signingSecret, body, timestamp: NOW });
    expect(await check(headers, undefined, `${body}&text=more`)).toMatchObject({ ok: false, status: 401 });
    const forged = signSlackRequest({ signingSecret: randomBytes(32).toString("hex"), body, timestamp: NOW });
    expect(await check(forged)).toMatchObject({ ok: false, status: 401, reason: "signature mismatch" });
  });

  it("accepts the previous signing secret too while both are given, and still refuses any other", async () => {
    const previous = randomBytes(32).toString("hex");
    const both = (headers: Record<string, string>) =>
      checkSlackRequest({
        headers,
        rawBody: Buffer.from(body),
        signingSecrets: [signingSecret, previous],
        nowMs: NOW_MS,
        replay: memoryCache().cache,
      });
    const sign = (secret: string) => signSlackRequest({ signingSecret: secret, body, timestamp: NOW });
    expect(await both(sign(signingSecret))).toEqual({ ok: true, secretIndex: 0 });
    expect(await both(sign(previous))).toEqual({ ok: true, secretIndex: 1 });
    expect(await both(sign(randomBytes(32).toString("hex")))).toMatchObject({
      ok: false,
      reason: "signature mismatch",
    });
    // Without it (the switch is over), the previous secret is just another secret.
    expect(await check(sign(previous))).toMatchObject({ ok: false, reason: "signature mismatch" });
  });

  it("accepts a signature once, remembering it as long as its timestamp could still pass", async () => {
    const { cache, claimed } = memoryCache();
    const headers = signSlackRequest({ signingSecret, body, timestamp: NOW + SLACK_REQUEST_WINDOW_SECONDS });
    expect(await check(headers, cache)).toEqual({ ok: true, secretIndex: 0 });
    expect(await check(headers, cache)).toMatchObject({
      ok: false,
      status: 401,
      reason: expect.stringMatching(/replayed/),
    });
    expect([...claimed.values()]).toEqual([REPLAY_MEMORY_MS]);
    expect(REPLAY_MEMORY_MS).toBe(2 * SLACK_REQUEST_WINDOW_SECONDS * 1000);
    // The key is a hash: the signature itself is never stored.
    const [key] = [...claimed.keys()];
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(headers["x-slack-signature"]).not.toContain(key);
  });

  it("refuses with 503 when the replay cache cannot be reached, without saying more", async () => {
    const down: ReplayCache = {
      claim: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379")),
    };
    const verdict = await check(signSlackRequest({ signingSecret, body, timestamp: NOW }), down);
    expect(verdict).toEqual({ ok: false, status: 503, reason: "the replay cache cannot be reached" });
  });

  it("never puts a header value into its reason", async () => {
    const headers = signSlackRequest({ signingSecret, body, timestamp: NOW + 999 });
    const verdict = await check(headers);
    expect(JSON.stringify(verdict)).not.toContain(headers["x-slack-signature"].slice(3));
    expect(JSON.stringify(verdict)).not.toContain(String(NOW + 999));
  });
});
