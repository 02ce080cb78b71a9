import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AwsSandbox, type OidcIssuer, startAwsSandbox, startOidcIssuer } from "@leasehold/sandbox";
import { ROLE_ARN, tokenFor } from "@leasehold/test-kit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Stack, startStack } from "./stack.js";

/**
 * The audit trail copied to a file sink by the real worker process while that worker is SIGKILLed
 * again and again, mid-export or not: once the trail stops growing, the file (and its rotated parts)
 * holds every event exactly once, in order. The per-sink cursor resumes after each kill, and the file
 * sink's last-seq check drops what a killed worker delivered but could not record.
 */
const config = (path: string) => `
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
`;

describe("an audit file sink across worker SIGKILLs", () => {
  let aws: AwsSandbox;
  let people: OidcIssuer;
  let stack: Stack;
  const dir = mkdtempSync(join(tmpdir(), "lh-sink-faults-"));
  const path = join(dir, "audit.jsonl");

  beforeAll(async () => {
    [aws, people] = await Promise.all([startAwsSandbox({ roles: [{ arn: ROLE_ARN }] }), startOidcIssuer()]);
    stack = await startStack({
      sandbox: aws,
      issuerUrl: people.url,
      config: config(path),
      sweepIntervalSeconds: 1,
      // A killed worker's jobs are taken up again two seconds later, not thirty.
      jobLockSeconds: 2,
    });
  }, 120_000);

  afterEach(({ task }) => {
    if (task.result?.state === "fail") console.log(stack?.output().split("\n").slice(-80).join("\n"));
  });

  afterAll(async () => {
    await stack?.stop();
    await Promise.all([aws?.close(), people?.close()]);
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

  it("holds every event exactly once, in order", async () => {
    const dev = stack.client(await tokenFor(people, "dev"));
    const alice = stack.client(await tokenFor(people, "alice"));
    for (let round = 0; round < 4; round += 1) {
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
    }
    // Issues the kills interrupted go on after the loop: wait for a moment the file has caught up with
    // the trail as it is then (the head read before and after the file, unchanged).
    const head = async () =>
      Number(
        (await stack.db.query<{ seq: string }>("SELECT max(seq)::text AS seq FROM audit_events"))[0]?.seq,
      );
    const last = await eventually(
      async () => {
        const before = await head();
        const onDisk = seqsOnDisk().length;
        return onDisk >= before && (await head()) === before ? before : undefined;
      },
      60_000,
      "the file to catch up with the trail",
    );
    expect(last).toBeGreaterThanOrEqual(4 * 5 * 3);
    expect(seqsOnDisk()).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(readdirSync(dir).length).toBeGreaterThan(1);
  }, 180_000);
});
