import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AwsSandbox, type OidcIssuer, startAwsSandbox, startOidcIssuer } from "@leasehold/sandbox";
import { ROLE_ARN, tokenFor } from "@leasehold/test-kit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Stack, startStack } from "./stack.js";

/**
 * The audit trail copied out by the real worker process while that worker is SIGKILLed again and
 * again, mid-export or not, and while the webhook receiver is down for a while: once the trail stops
 * growing, the file (and its rotated parts) holds every event exactly once, in order, and the
 * receiver, dropping repeats by seq, has every event in order. The per-sink cursor resumes after each
 * kill and after the outage; the file sink's last-seq check drops what a killed worker delivered but
 * could not record.
 */
const HMAC_KEY = "fault-suite-webhook-hmac-key-0123456789abcdef";

const config = (path: string, webhookUrl: string) => `
identityProviders:
  - name: corp
    issuer: "{issuer}"
    audience: leasehold
admins:
  groups: [security]
targets:
  - id: prod
    kind: aws-role
    requesters: { groups: [engineering] }
    approvers: { groups: [sre] }
    requiredApprovals: 1
    maxDuration: 1h
    defaultDuration: 15m
    aws:
      roleArn: ${ROLE_ARN}
limits:
  activeGrants: 100
  rates: { requests: 1000 }
auditSinks:
  - name: trail-file
    kind: file
    path: ${path}
    rotate: { maxBytes: 8192 }
  - name: siem
    kind: webhook
    url: ${webhookUrl}
    hmacKeyEnv: SIEM_HMAC_KEY
    batchSize: 7
    attempts: 2
    backoffMs: 100
`;

/** A SIEM's intake: checks each body's signature, answers 503 while `down`, keeps each event by seq. */
async function startReceiver() {
  const firstSeen: number[] = [];
  const seen = new Set<number>();
  let badSignatures = 0;
  let refused = 0;
  let down = false;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const given = Buffer.from(String(req.headers["x-leasehold-signature"] ?? ""));
      const expected = Buffer.from(`sha256=${createHmac("sha256", HMAC_KEY).update(body).digest("hex")}`);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        badSignatures += 1;
        res.writeHead(401).end();
        return;
      }
      if (down) {
        refused += 1;
        res.writeHead(503).end();
        return;
      }
      for (const event of (JSON.parse(body.toString("utf8")) as { events: { seq: number }[] }).events) {
        if (!seen.has(event.seq)) firstSeen.push(event.seq);
        seen.add(event.seq);
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/intake`,
    firstSeen,
    stats: () => ({ badSignatures, refused }),
    setDown: (value: boolean) => {
      down = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("audit sinks across worker SIGKILLs and a receiver outage", () => {
  let aws: AwsSandbox;
  let people: OidcIssuer;
  let stack: Stack;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const dir = mkdtempSync(join(tmpdir(), "lh-sink-faults-"));
  const path = join(dir, "audit.jsonl");

  beforeAll(async () => {
    [aws, people, receiver] = await Promise.all([
      startAwsSandbox({ roles: [{ arn: ROLE_ARN }] }),
      startOidcIssuer(),
      startReceiver(),
    ]);
    stack = await startStack({
      sandbox: aws,
      issuerUrl: people.url,
      config: config(path, receiver.url),
      sweepIntervalSeconds: 1,
      // A killed worker's jobs are taken up again two seconds later, not thirty.
      jobLockSeconds: 2,
      env: { SIEM_HMAC_KEY: HMAC_KEY },
    });
  }, 120_000);

  afterEach(({ task }) => {
    if (task.result?.state === "fail") console.log(stack?.output().split("\n").slice(-80).join("\n"));
  });

  afterAll(async () => {
    await stack?.stop();
    await Promise.all([aws?.close(), people?.close(), receiver?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every record's seq, oldest file first (rotated files sort by their timestamp). */
  const seqsOnDisk = () => {
    const files = readdirSync(dir)
      .filter((f) => f.startsWith("audit.jsonl."))
      .sort();
    return [...files, "audit.jsonl"].flatMap((f) => {
      let text = "";
      try {
        text = readFileSync(join(dir, f), "utf8");
      } catch {
        return [];
      }
      return text
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => (JSON.parse(line) as { seq: number }).seq);
    });
  };

  it("the file holds every event exactly once, and the receiver every event, in order", async () => {
    const dev = stack.client(await tokenFor(people, "dev"));
    const alice = stack.client(await tokenFor(people, "alice"));
    for (let round = 0; round < 4; round += 1) {
      // The receiver is down for the first two rounds: the webhook sink falls behind, the file does not.
      receiver.setDown(round < 2);
      // Events keep coming while the worker dies: requests, approvals, and the issues it owes.
      const work = (async () => {
        // One after another: a requester may have one pending request per target.
        for (let i = 0; i < 5; i += 1) {
          const request = await dev.requests.create.mutate({
            targetId: "prod",
            durationSeconds: 900,
            reason: "sink faults",
          });
          await alice.reviews.submit.mutate({ requestId: request.id, decision: "approve" });
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 50 + round * 100));
      stack.killWorker();
      await work;
      await stack.workerExited();
      await stack.startWorker();
      if (round === 1) {
        // Let the outage fail deliveries before the receiver comes back: with two attempts per POST,
        // four refusals are at least two failed deliveries, in two rounds of the export.
        await eventually(
          async () => (receiver.stats().refused >= 4 ? true : undefined),
          20_000,
          "failed deliveries",
        );
      }
    }
    // Issues the kills interrupted go on after the loop: wait for a moment both sinks have caught up
    // with the trail as it is then (the head read before and after them, unchanged).
    const head = async () =>
      Number(
        (await stack.db.query<{ seq: string }>("SELECT max(seq)::text AS seq FROM audit_events"))[0]?.seq,
      );
    const last = await eventually(
      async () => {
        const before = await head();
        const caughtUp = seqsOnDisk().length >= before && receiver.firstSeen.length >= before;
        return caughtUp && (await head()) === before ? before : undefined;
      },
      60_000,
      "the sinks to catch up with the trail",
    );
    expect(last).toBeGreaterThanOrEqual(4 * 5 * 3);
    const all = Array.from({ length: last }, (_, i) => i + 1);
    expect(seqsOnDisk()).toEqual(all);
    expect(readdirSync(dir).length).toBeGreaterThan(1);
    expect(receiver.firstSeen).toEqual(all);
    expect(receiver.stats().badSignatures).toBe(0);
    expect(receiver.stats().refused).toBeGreaterThanOrEqual(4);
  }, 180_000);
});
