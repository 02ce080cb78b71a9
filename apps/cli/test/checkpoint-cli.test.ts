import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type CheckpointKey, checkpointKeyOf, deriveKeys, signCheckpoint } from "@leasehold/config";
import type { AuditEvent } from "@leasehold/domain";
import { createS3AuditSink, s3AuditSinkSchema } from "@leasehold/providers";
import { type AwsSandbox, SANDBOX_ACCESS_KEY, startAwsSandbox } from "@leasehold/sandbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * `leasehold audit checkpoint verify` as a real process, offline, as an auditor runs it: a sink's
 * JSON-lines file (or one checkpoint) and the public key, no API, no login.
 */
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const CLI = ["--conditions=@leasehold/source", "--import", "tsx", "apps/cli/src/main.ts"];
const dir = mkdtempSync(join(tmpdir(), "lh-checkpoint-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Result = { code: number | null; stdout: string; stderr: string };
const runWith = (env: Record<string, string>, ...args: string[]) =>
  new Promise<Result>((resolve) => {
    // No LEASEHOLD_URL that answers and no token: the command must not need either.
    const child = spawn(process.execPath, [...CLI, ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, HOME: dir, LEASEHOLD_URL: "http://127.0.0.1:9", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => {
      stdout += c;
    });
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });

const run = (...args: string[]) => runWith({}, ...args);

let files = 0;
const file = (text: string) => {
  files += 1;
  const path = join(dir, `file-${files}`);
  writeFileSync(path, text);
  return path;
};

const key: CheckpointKey = checkpointKeyOf(deriveKeys(Buffer.alloc(32, 5)).auditCheckpoint);
const publicKey = file(key.publicKeyPem);
const hashOf = (seq: number) => seq.toString(16).padStart(64, "0");
const at = (seq: number) => new Date(Date.UTC(2026, 11, 6, 1, 0, seq)).toISOString();

/** A line as a JSON-lines sink writes an event. */
const eventLine = (seq: number, checkpointOf?: number, signer: CheckpointKey = key) =>
  JSON.stringify({
    seq,
    at: at(seq),
    actor: checkpointOf === undefined ? "dev@example.com" : "system:checkpoint",
    action: checkpointOf === undefined ? "request.cancelled" : "audit.checkpoint",
    subjectType: checkpointOf === undefined ? "request" : "audit",
    subjectId: checkpointOf === undefined ? `r${seq}` : String(checkpointOf),
    data:
      checkpointOf === undefined
        ? {}
        : signCheckpoint(signer, { seq: checkpointOf, hash: hashOf(checkpointOf), at: at(seq) }),
    prevHash: hashOf(seq - 1),
    hash: hashOf(seq),
  });

const sinkFile = (lines: string[]) => file(`${lines.join("\n")}\n`);
const goodLines = [eventLine(1), eventLine(2), eventLine(3, 2), eventLine(4), eventLine(5, 4), eventLine(6)];

describe("leasehold audit checkpoint verify (offline)", () => {
  it("verifies every checkpoint in a sink file and names the newest", async () => {
    // A last line cut short by a crash is passed over, as a sink file may end.
    const result = await run(
      "audit",
      "checkpoint",
      "verify",
      file(`${goodLines.join("\n")}\n{"seq":7,"at`),
      "--public-key",
      publicKey,
    );
    expect(result, result.stderr).toMatchObject({ code: 0 });
    expect(result.stdout).toMatch(
      new RegExp(
        `^2 checkpoints verified; the newest covers event 4 \\(${hashOf(4)}\\), signed .* by key ${key.keyId}`,
      ),
    );
    const json = await run(
      "audit",
      "checkpoint",
      "verify",
      sinkFile(goodLines),
      "--public-key",
      publicKey,
      "--json",
    );
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      checkpoints: 2,
      newest: { seq: 4, keyId: key.keyId },
    });
  });

  it("takes one checkpoint on its own, pretty-printed", async () => {
    const one = signCheckpoint(key, { seq: 9, hash: hashOf(9), at: at(10) });
    expect(
      await run(
        "audit",
        "checkpoint",
        "verify",
        file(JSON.stringify(one, null, 2)),
        "--public-key",
        publicKey,
      ),
    ).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^1 checkpoint verified; the newest covers event 9/),
    });
  });

  it("fails, naming the line, when a checkpoint's seq, hash or time was changed", async () => {
    for (const field of ["seq", "hash", "at"] as const) {
      const line = JSON.parse(eventLine(5, 4));
      line.data[field] = field === "seq" ? 3 : field === "hash" ? hashOf(3) : at(99);
      const lines = [...goodLines];
      lines[4] = JSON.stringify(line);
      const result = await run("audit", "checkpoint", "verify", sinkFile(lines), "--public-key", publicKey);
      expect(result, field).toMatchObject({
        code: 1,
        stdout: expect.stringMatching(/DO NOT VERIFY[\s\S]*line 5 .*the signature does not match/),
      });
    }
  });

  it("fails with another installation's public key, and names the key ids", async () => {
    const stranger = generateKeyPairSync("ed25519")
      .publicKey.export({ format: "pem", type: "spki" })
      .toString();
    expect(
      await run("audit", "checkpoint", "verify", sinkFile(goodLines), "--public-key", file(stranger)),
    ).toMatchObject({
      code: 1,
      stdout: expect.stringMatching(
        new RegExp(`names key ${key.keyId}, and no public key given has that id`),
      ),
    });
    // Checkpoints from before a key change verify when both public keys are given.
    const newKey = checkpointKeyOf(generateKeyPairSync("ed25519").privateKey);
    const mixed = sinkFile([...goodLines, eventLine(7, 6, newKey)]);
    expect(await run("audit", "checkpoint", "verify", mixed, "--public-key", publicKey)).toMatchObject({
      code: 1,
    });
    expect(
      await run(
        "audit",
        "checkpoint",
        "verify",
        mixed,
        "--public-key",
        publicKey,
        "--public-key",
        file(newKey.publicKeyPem),
      ),
    ).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^3 checkpoints verified; the newest covers event 6/),
    });
  });

  it("fails when a later checkpoint covers no more than an earlier one: the trail was set back and signed again", async () => {
    const setBack = sinkFile([...goodLines, eventLine(7, 3)]);
    expect(await run("audit", "checkpoint", "verify", setBack, "--public-key", publicKey)).toMatchObject({
      code: 1,
      stdout: expect.stringMatching(
        /line 7: the checkpoint of event 3 follows one of event 4 \(line 5\): the trail was set back/,
      ),
    });
  });

  it("refuses a file with no checkpoint, a malformed checkpoint, and a missing public key", async () => {
    expect(
      await run(
        "audit",
        "checkpoint",
        "verify",
        sinkFile([eventLine(1), eventLine(2)]),
        "--public-key",
        publicKey,
      ),
    ).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/holds no audit checkpoint/),
    });
    const malformed = JSON.parse(eventLine(3, 2));
    malformed.data.signature = "not base64!";
    expect(
      await run(
        "audit",
        "checkpoint",
        "verify",
        sinkFile([eventLine(1), JSON.stringify(malformed)]),
        "--public-key",
        publicKey,
      ),
    ).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/line 2: not a valid checkpoint \(signature: /),
    });
    expect(await run("audit", "checkpoint", "verify", sinkFile(goodLines))).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--public-key/),
    });
    expect(
      await run("audit", "checkpoint", "verify", sinkFile(goodLines), "--public-key", file("not a key")),
    ).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/not an Ed25519 public key/),
    });
    expect(
      await run("audit", "checkpoint", "verify", join(dir, "nowhere"), "--public-key", publicKey),
    ).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/cannot read .*ENOENT/),
    });
  });
});

describe("leasehold audit checkpoint verify s3://… (an S3 Object Lock sink on the AWS stand-in)", () => {
  const BUCKET = "leasehold-audit";
  const REGION = "eu-west-1";
  let sandbox: AwsSandbox;
  let awsEnv: Record<string, string>;
  beforeAll(async () => {
    sandbox = await startAwsSandbox({
      roles: [],
      buckets: [{ name: BUCKET, region: REGION, objectLock: {} }],
    });
    // What an auditor's shell holds: the SDK's own variables, nothing of Leasehold's.
    awsEnv = {
      AWS_REGION: REGION,
      AWS_ENDPOINT_URL: sandbox.url,
      AWS_ACCESS_KEY_ID: SANDBOX_ACCESS_KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: SANDBOX_ACCESS_KEY.secretAccessKey,
    };
  });
  afterAll(() => sandbox?.close());

  const asEvent = (line: string): AuditEvent => {
    const event = JSON.parse(line);
    return { ...event, at: new Date(event.at) };
  };
  const deliver = async (prefix: string, lines: string[]) => {
    const sink = createS3AuditSink({
      ...s3AuditSinkSchema.parse({
        name: "archive",
        kind: "s3",
        bucket: BUCKET,
        prefix,
        region: REGION,
        retentionDays: 1,
      }),
      region: REGION,
      endpoint: sandbox.url,
      credentials: SANDBOX_ACCESS_KEY,
    });
    // Two batches, as the worker delivers them: two locked objects.
    await sink.deliver(lines.slice(0, 3).map(asEvent));
    await sink.deliver(lines.slice(3).map(asEvent));
    await sink.close?.();
  };

  it("reads the sink's objects and checks every checkpoint in them", async () => {
    await deliver("audit/good", goodLines);
    const result = await runWith(
      awsEnv,
      "audit",
      "checkpoint",
      "verify",
      `s3://${BUCKET}/audit/good`,
      "--public-key",
      publicKey,
    );
    expect(result, result.stderr).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^2 checkpoints verified; the newest covers event 4 /),
    });
  });

  it("fails, naming the event, when a stored checkpoint does not verify", async () => {
    const lines = [...goodLines];
    const forged = JSON.parse(eventLine(5, 4));
    forged.data.hash = hashOf(1);
    lines[4] = JSON.stringify(forged);
    await deliver("audit/forged", lines);
    expect(
      await runWith(
        awsEnv,
        "audit",
        "checkpoint",
        "verify",
        `s3://${BUCKET}/audit/forged`,
        "--public-key",
        publicKey,
      ),
    ).toMatchObject({
      code: 1,
      stdout: expect.stringMatching(/event 5 \(checkpoint of event 4\): the signature does not match/),
    });
  });

  it("says what is wrong with the location or the bucket", async () => {
    expect(
      await runWith(awsEnv, "audit", "checkpoint", "verify", "s3://", "--public-key", publicKey),
    ).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/not an S3 location like s3:\/\/my-audit-bucket/),
    });
    const missing = await runWith(
      awsEnv,
      "audit",
      "checkpoint",
      "verify",
      "s3://no-such-bucket/audit",
      "--public-key",
      publicKey,
    );
    expect(missing).toMatchObject({
      code: 7,
      stderr: expect.stringMatching(/S3 ListObjectsV2 s3:\/\/no-such-bucket/),
    });
    expect(
      await runWith(
        awsEnv,
        "audit",
        "checkpoint",
        "verify",
        `s3://${BUCKET}/audit/empty`,
        "--public-key",
        publicKey,
      ),
    ).toMatchObject({ code: 1, stderr: expect.stringMatching(/holds no audit checkpoint/) });
  });
});
