import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { UpstreamError } from "@leasehold/domain";
import { afterEach, describe, expect, it } from "vitest";
import { jsonRecord } from "../audit-record.js";
import { auditEvents } from "../test-events.js";
import { createWebhookSink } from "./webhook-sink.js";
import { webhookAuditSinkSchema } from "./webhook-sink-schema.js";

const HMAC_KEY = "a-test-webhook-hmac-key-of-enough-length-0123";
const HEC_TOKEN = "6a0e0ab6-5c1a-4b1e-9d5e-0f1c2b3a4d5e";
const env = { SINK_HMAC: HMAC_KEY, HEC_TOKEN };

type Received = { headers: IncomingMessage["headers"]; body: string };
type Answer = (req: Received) => { status: number; body?: unknown } | "hang";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A receiver on a random local port; answers each POST as `answer` says and records it. */
async function receiver(answer: Answer) {
  const received: Received[] = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const got = { headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      received.push(got);
      const reply = answer(got);
      if (reply === "hang") return;
      res.writeHead(reply.status, { "content-type": "application/json" });
      res.end(JSON.stringify(reply.body ?? {}));
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/audit`, received };
}

/** What a receiver does first: check the signature of the raw body, in constant time. */
const signatureValid = (r: Received) => {
  const given = Buffer.from(String(r.headers["x-leasehold-signature"] ?? ""));
  const expected = Buffer.from(`sha256=${createHmac("sha256", HMAC_KEY).update(r.body).digest("hex")}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
};

const sinkFor = (url: string, extra: Record<string, unknown> = {}, sleeps: number[] = []) =>
  createWebhookSink(
    webhookAuditSinkSchema.parse({ name: "siem", kind: "webhook", url, hmacKeyEnv: "SINK_HMAC", ...extra }),
    { env, sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 },
  );

describe("the webhook audit sink", () => {
  it("POSTs signed batches in order, naming each batch's seq range", async () => {
    const { url, received } = await receiver((r) => (signatureValid(r) ? { status: 200 } : { status: 401 }));
    const events = auditEvents(1, 5);
    await sinkFor(url, { batchSize: 2 }).deliver(events);
    expect(received.map((r) => r.headers["x-leasehold-seq-range"])).toEqual(["1-2", "3-4", "5-5"]);
    expect(received.every(signatureValid)).toBe(true);
    const bodies = received.map((r) => JSON.parse(r.body) as { events: unknown[] });
    expect(bodies.flatMap((b) => b.events)).toEqual(
      events.map((e) => JSON.parse(JSON.stringify(jsonRecord(e)))),
    );
  });

  it("a receiver checking the signature refuses a body signed with another key", async () => {
    const { url } = await receiver((r) => (signatureValid(r) ? { status: 200 } : { status: 401 }));
    const sink = createWebhookSink(
      webhookAuditSinkSchema.parse({ name: "siem", kind: "webhook", url, hmacKeyEnv: "OTHER", attempts: 1 }),
      { env: { OTHER: "x".repeat(40) } },
    );
    await expect(sink.deliver(auditEvents(1, 1))).rejects.toThrow(/answered 401/);
  });

  it("retries a busy receiver with exponential backoff and jitter, within one delivery", async () => {
    let calls = 0;
    const { url, received } = await receiver(() => (++calls <= 2 ? { status: 503 } : { status: 200 }));
    const sleeps: number[] = [];
    await sinkFor(url, { backoffMs: 1000 }, sleeps).deliver(auditEvents(1, 3));
    expect(received).toHaveLength(3);
    expect(new Set(received.map((r) => r.body)).size).toBe(1);
    // Full jitter at 0.5 of a ceiling that doubles: 1000 ms, then 2000 ms.
    expect(sleeps).toEqual([500, 1000]);
  });

  it("gives up after its attempts, with an error that names no secret", async () => {
    const { url, received } = await receiver(() => ({ status: 500 }));
    const error = await sinkFor(url, { attempts: 3 })
      .deliver(auditEvents(1, 1))
      .catch((e: unknown) => e);
    expect(received).toHaveLength(3);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).retryable).toBe(true);
    expect(String((error as Error).message)).not.toContain(HMAC_KEY);
  });

  it("does not retry a refusal (400) within the delivery", async () => {
    const { url, received } = await receiver(() => ({ status: 400 }));
    const error = await sinkFor(url)
      .deliver(auditEvents(1, 1))
      .catch((e: unknown) => e);
    expect(received).toHaveLength(1);
    expect((error as UpstreamError).retryable).toBe(false);
  });

  it("does not follow a redirect elsewhere with the signed body", async () => {
    const elsewhere = await receiver(() => ({ status: 200 }));
    const redirecting = createServer((_req, res) => {
      res.writeHead(307, { location: elsewhere.url }).end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/audit`;
      await expect(sinkFor(url).deliver(auditEvents(1, 1))).rejects.toThrow(/answered 307/);
      expect(elsewhere.received).toEqual([]);
    } finally {
      redirecting.closeAllConnections();
      await new Promise((resolve) => redirecting.close(resolve));
    }
  });

  it("counts a receiver that does not answer in time as a failed try", async () => {
    const { url } = await receiver(() => "hang");
    await expect(sinkFor(url, { attempts: 1, timeoutMs: 200 }).deliver(auditEvents(1, 1))).rejects.toThrow(
      /did not answer within 200 ms/,
    );
  });

  it("stops the process at start when a named variable is unset or the key is short", () => {
    const parse = (extra: Record<string, unknown>) =>
      webhookAuditSinkSchema.parse({
        name: "s",
        kind: "webhook",
        url: "https://siem.example.com/in",
        ...extra,
      });
    expect(() => createWebhookSink(parse({ hmacKeyEnv: "NOPE" }), { env })).toThrow(
      "Set NOPE (named by auditSinks.s.hmacKeyEnv)",
    );
    expect(() => createWebhookSink(parse({ hmacKeyEnv: "SHORT" }), { env: { SHORT: "abc" } })).toThrow(
      /at least 32 characters/,
    );
  });

  it("refuses URLs that would carry a secret, plain HTTP off this host, and json without a key", () => {
    const ok = (extra: Record<string, unknown>) =>
      webhookAuditSinkSchema.safeParse({ name: "s", kind: "webhook", hmacKeyEnv: "K", ...extra }).success;
    expect(ok({ url: "https://siem.example.com/in" })).toBe(true);
    expect(ok({ url: "https://siem.example.com/in?token=abc" })).toBe(false);
    expect(ok({ url: "https://user:pw@siem.example.com/in" })).toBe(false);
    expect(ok({ url: "http://siem.example.com/in" })).toBe(false);
    expect(
      webhookAuditSinkSchema.safeParse({ name: "s", kind: "webhook", url: "https://siem.example.com/in" })
        .success,
    ).toBe(false);
  });
});

describe("the webhook audit sink as Splunk HEC", () => {
  /** A HEC endpoint as the contract describes it: token check, `event` required, code 0 on success. */
  const hec = (busyFirst = 0) => {
    let calls = 0;
    return receiver((r) => {
      calls += 1;
      if (r.headers.authorization !== `Splunk ${HEC_TOKEN}`)
        return { status: 403, body: { text: "Invalid token", code: 4 } };
      if (calls <= busyFirst) return { status: 503, body: { text: "Server is busy", code: 9 } };
      const events = r.body.split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
      const bad = events.findIndex((e) => e.event === undefined);
      if (bad !== -1)
        return {
          status: 400,
          body: { text: "Event field is required", code: 12, "invalid-event-number": bad },
        };
      return { status: 200, body: { text: "Success", code: 0 } };
    });
  };
  const hecSink = (url: string, extra: Record<string, unknown> = {}) =>
    createWebhookSink(
      webhookAuditSinkSchema.parse({
        name: "splunk",
        kind: "webhook",
        url,
        format: "splunk-hec",
        tokenEnv: "HEC_TOKEN",
        splunk: { index: "security", channel: "0f6a5c1e-3b2a-4c7d-9e8f-1a2b3c4d5e6f" },
        ...extra,
      }),
      { env, sleep: async () => undefined },
    );

  it("sends HEC events with the token, seq as an indexed field, and retries code 9", async () => {
    const { url, received } = await hec(1);
    await hecSink(url).deliver(auditEvents(7, 2));
    expect(received).toHaveLength(2);
    const last = received[1] as Received;
    expect(last.headers["x-splunk-request-channel"]).toBe("0f6a5c1e-3b2a-4c7d-9e8f-1a2b3c4d5e6f");
    expect(last.headers["x-leasehold-seq-range"]).toBe("7-8");
    const events = last.body.split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      time: (auditEvents(7, 1)[0]?.at.getTime() as number) / 1000,
      sourcetype: "leasehold:audit",
      index: "security",
      event: { seq: 7, action: "grant.issued" },
      fields: { seq: "7", action: "grant.issued", subject_type: "grant" },
    });
  });

  it("reports HEC's refusal of a token without retrying, and without the token", async () => {
    const { url, received } = await hec();
    const sink = createWebhookSink(
      webhookAuditSinkSchema.parse({
        name: "splunk",
        kind: "webhook",
        url,
        format: "splunk-hec",
        tokenEnv: "WRONG",
      }),
      { env: { WRONG: "00000000-0000-0000-0000-000000000000" } },
    );
    const error = await sink.deliver(auditEvents(1, 1)).catch((e: unknown) => e as Error);
    expect(received).toHaveLength(1);
    expect(error?.message).toMatch(/answered 403 \(HEC code 4: Invalid token\)/);
    expect(error?.message).not.toContain("00000000-0000-0000-0000-000000000000");
  });

  it("requires the token variable for splunk-hec", () => {
    expect(
      webhookAuditSinkSchema.safeParse({
        name: "s",
        kind: "webhook",
        url: "https://splunk.example.com:8088/services/collector/event",
        format: "splunk-hec",
      }).success,
    ).toBe(false);
  });
});
