import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromProcess } from "@aws-sdk/credential-provider-process";
import { checkpointKeyOf, deriveKeys, parseMasterKey, signCheckpoint } from "@leasehold/config";
import { type LocalMode, startLocalMode } from "@leasehold/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The `leasehold` CLI as a real process against local mode (a real process too): request, approve as
 * other people, fetch and use credentials, revoke, verify the audit trail.
 */
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const CLI = ["--conditions=@leasehold/source", "--import", "tsx", "apps/cli/src/main.ts"];

type Result = { code: number | null; stdout: string; stderr: string };

// Each case runs the CLI as a process several times (a Node start each, 1–2 s on two busy cores), up
// to a dozen times: the default 20 s per test is too short for them under CI's load.
describe("the leasehold CLI against local mode", { timeout: 60_000 }, () => {
  let local: LocalMode;
  const homes = new Map<string, string>();

  beforeAll(async () => {
    local = await startLocalMode();
  }, 180_000);
  afterAll(async () => {
    await local?.stop();
  });

  const envFor = (who: string) => {
    let home = homes.get(who);
    if (!home) {
      home = mkdtempSync(join(tmpdir(), `lh-cli-${who}-`));
      homes.set(who, home);
    }
    return { LEASEHOLD_URL: local.address, LEASEHOLD_DATA_DIR: local.dataDir, XDG_CONFIG_HOME: home };
  };
  const run = (who: string, ...args: string[]) =>
    new Promise<Result>((resolve) => {
      const child = spawn(process.execPath, [...CLI, ...args], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...envFor(who) },
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
  const ok = async (who: string, ...args: string[]) => {
    const result = await run(who, ...args);
    expect(result, result.stderr).toMatchObject({ code: 0 });
    return result.stdout;
  };
  const approvedGrant = async (reason: string) => {
    const request = JSON.parse(
      await ok("dev", "request", "sandbox-readonly", "--for", "15m", "--reason", reason, "--json"),
    );
    await ok("alice", "approve", request.id);
    await ok("bob", "approve", request.id);
    for (let i = 0; i < 100; i++) {
      const grants = JSON.parse(await ok("dev", "leases", "--json")) as {
        id: string;
        requestId: string;
        state: string;
      }[];
      const grant = grants.find((g) => g.requestId === request.id && g.state === "active");
      if (grant) return grant.id;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error("the grant never became active");
  };

  it("logs people in from local mode's seeded identities", async () => {
    for (const who of ["dev", "alice", "bob", "sec"]) await ok(who, "login", "--local", who);
    expect(await ok("dev", "whoami")).toMatch(/^dev@example\.com \(human, local; groups: engineering\)/);
    expect(await ok("dev", "targets")).toMatch(/sandbox-readonly/);
  });

  it("requests, refuses self-approval, issues after two approvals, and keeps credentials inside exec", async () => {
    const request = JSON.parse(
      await ok("dev", "request", "sandbox-readonly", "--for", "15m", "--reason", "cli test", "--json"),
    );
    const self = await run("dev", "approve", request.id);
    expect(self).toMatchObject({ code: 4, stderr: expect.stringMatching(/your own request/) });
    await ok("alice", "approve", request.id);
    expect(await ok("bob", "approve", request.id)).toMatch(
      /request approved; grant [0-9a-f-]{36} is being issued/,
    );
    const grants = JSON.parse(await ok("dev", "leases", "--json")) as { id: string; requestId: string }[];
    const grantId = grants.find((g) => g.requestId === request.id)?.id ?? "";

    // Wait until issued, then fetch as JSON.
    let creds: { credential: { accessKeyId: string; secretAccessKey: string } } | undefined;
    for (let i = 0; i < 100 && !creds; i++) {
      const attempt = await run("dev", "creds", grantId, "--format", "json");
      if (attempt.code === 0) creds = JSON.parse(attempt.stdout);
      else await new Promise((r) => setTimeout(r, 200));
    }
    expect(creds?.credential.accessKeyId).toMatch(/^ASIA/);
    expect(await run("alice", "creds", grantId)).toMatchObject({ code: 4 });

    // exec: the child sees the credentials in its environment; its exit code is the CLI's.
    const script = "process.stdout.write(process.env.AWS_ACCESS_KEY_ID ?? 'none'); process.exit(3)";
    const exec = await run("dev", "exec", grantId, "--", process.execPath, "-e", script);
    expect(exec).toMatchObject({ code: 3, stdout: creds?.credential.accessKeyId });
    expect(exec.stderr).not.toContain(creds?.credential.secretAccessKey);
  });

  it("credential-process prints what the AWS SDK's own process provider accepts", async () => {
    const grantId = await approvedGrant("credential_process");
    const configFile = join(mkdtempSync(join(tmpdir(), "lh-aws-")), "config");
    const env = Object.entries(envFor("dev"))
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    writeFileSync(
      configFile,
      `[profile leasehold]\ncredential_process = env ${env} ${process.execPath} ${CLI.join(" ")} credential-process ${grantId}\n`,
    );
    const previous = process.cwd();
    process.chdir(repoRoot);
    try {
      const credentials = await fromProcess({
        profile: "leasehold",
        configFilepath: configFile,
        filepath: configFile,
      })();
      expect(credentials.accessKeyId).toMatch(/^ASIA/);
      expect(credentials.sessionToken).toBeTruthy();
      expect(credentials.expiration?.getTime()).toBeGreaterThan(Date.now());
    } finally {
      process.chdir(previous);
    }
  });

  it("request --wait follows the request until the credentials are ready", async () => {
    const waiting = run(
      "dev",
      "request",
      "sandbox-readonly",
      "--for",
      "15m",
      "--reason",
      "wait for it",
      "--wait",
    );
    let requestId: string | undefined;
    for (let i = 0; i < 100 && !requestId; i++) {
      const pending = JSON.parse(await ok("alice", "requests", "--to-review", "--json")) as {
        id: string;
        reason: string;
      }[];
      requestId = pending.find((r) => r.reason === "wait for it")?.id;
      if (!requestId) await new Promise((r) => setTimeout(r, 200));
    }
    await ok("alice", "approve", requestId ?? "");
    await ok("bob", "approve", requestId ?? "");
    const result = await waiting;
    expect(result).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/access to sandbox-readonly is active until/),
    });
    expect(result.stderr).toMatch(/waiting for \d more approval/);
    // The requester learns the id to give the approvers from the waiting line itself.
    expect(result.stderr).toContain(`request ${requestId}: waiting for`);
  });

  it("revokes, refuses what is no longer possible, and verifies and exports the audit trail", async () => {
    const grantId = await approvedGrant("revoke me");
    expect(await ok("dev", "revoke", grantId)).toMatch(/is revoking|is revoked/);
    expect(await run("dev", "creds", grantId)).toMatchObject({ code: 6 });
    expect(await run("dev", "audit", "verify")).toMatchObject({
      code: 4,
      stderr: expect.stringMatching(/only admins/),
    });
    const verified = await ok("sec", "audit", "verify");
    expect(verified).toMatch(/^the audit trail verifies: \d+ events/);
    // The head it prints, recorded elsewhere, is checked by a later verify.
    const head = /head (\d+:[0-9a-f]{64})/.exec(verified)?.[1] ?? "";
    expect(await ok("sec", "audit", "verify", "--expect", head)).toMatch(/verifies/);
    const [seq] = head.split(":");
    expect(await run("sec", "audit", "verify", "--expect", `${seq}:${"0".repeat(64)}`)).toMatchObject({
      code: 1,
      stdout: expect.stringMatching(/DOES NOT VERIFY[\s\S]*rewritten/),
    });
    expect(await run("sec", "audit", "verify", "--expect", "not-a-head")).toMatchObject({ code: 2 });
    const lines = (await ok("sec", "audit", "export")).trim().split("\n");
    expect(lines.length).toBeGreaterThan(10);
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({ seq: 1, action: "request.created" });
    expect(await run("dev", "frobnicate")).toMatchObject({ code: 2 });
    expect(await run("dev", "request", "sandbox-readonly")).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--reason/),
    });
  });

  it("verifies the trail against the worker's signed checkpoint, and names the gap when the trail is short of one", async () => {
    // The worker signs a checkpoint within seconds of the first events; an export is a JSON-lines
    // file as a sink writes one.
    let exported = "";
    for (let i = 0; i < 60 && !exported.includes('"audit.checkpoint"'); i++) {
      exported = await ok("sec", "audit", "export");
      if (!exported.includes('"audit.checkpoint"')) await new Promise((r) => setTimeout(r, 500));
    }
    const dir = mkdtempSync(join(tmpdir(), "lh-cli-checkpoint-"));
    const sinkFile = join(dir, "audit.jsonl");
    writeFileSync(sinkFile, exported);
    expect(await ok("sec", "audit", "verify", "--checkpoint", sinkFile)).toMatch(
      /^the audit trail verifies against the checkpoint of event \d+ \([0-9a-f]{64}\), signed .* by key [0-9a-f]{16}: \d+ events/,
    );

    // The public key the API gives is the one derived from local mode's master key; with it saved,
    // an auditor checks the checkpoints with no API at all.
    const served = JSON.parse(await ok("sec", "audit", "public-key", "--json"));
    const key = checkpointKeyOf(
      deriveKeys(parseMasterKey(readFileSync(join(local.dataDir, "master.key"), "utf8"))).auditCheckpoint,
    );
    expect(served).toEqual({ keyId: key.keyId, publicKeyPem: key.publicKeyPem, previous: [] });
    const pem = join(dir, "leasehold.pub");
    writeFileSync(pem, await ok("sec", "audit", "public-key"));
    expect(await ok("dev", "audit", "checkpoint", "verify", sinkFile, "--public-key", pem)).toMatch(
      /checkpoints? verified/,
    );
    expect(await ok("sec", "audit", "verify", "--checkpoint", sinkFile, "--public-key", pem)).toMatch(
      /verifies/,
    );
    expect(await run("dev", "audit", "public-key")).toMatchObject({ code: 4 });

    // A checkpoint the trail falls short of (as after a superuser deleted the newest events and
    // rewound the head): the verify fails and names the missing events.
    const head = JSON.parse(await ok("sec", "audit", "verify", "--json")).head as {
      seq: number;
      hash: string;
    };
    const ahead = join(dir, "ahead.json");
    const seq = head.seq + 1000;
    writeFileSync(
      ahead,
      JSON.stringify(signCheckpoint(key, { seq, hash: "e".repeat(64), at: new Date().toISOString() })),
    );
    expect(await run("sec", "audit", "verify", "--checkpoint", ahead)).toMatchObject({
      code: 1,
      stdout: expect.stringMatching(
        new RegExp(
          `DOES NOT VERIFY[\\s\\S]*the gap: events \\d+–${seq} are signed in the checkpoint and missing from the trail[\\s\\S]*newer events were removed`,
        ),
      ),
    });
    // One whose event the trail holds with another hash: rewritten.
    const other = join(dir, "other.json");
    writeFileSync(
      other,
      JSON.stringify(signCheckpoint(key, { seq: 1, hash: "e".repeat(64), at: new Date().toISOString() })),
    );
    expect(await run("sec", "audit", "verify", "--checkpoint", other)).toMatchObject({
      code: 1,
      stdout: expect.stringMatching(/DOES NOT VERIFY[\s\S]*event 1: .*rewritten/),
    });
  });

  it("approves dev's request by policy while PagerDuty (the stand-in) has dev on call, and says so", async () => {
    const answer = await ok(
      "dev",
      "request",
      "sandbox-oncall",
      "--for",
      "15m",
      "--reason",
      "paged for INC-3",
    );
    expect(answer).toMatch(/approved by policy target\/sandbox-oncall\/auto-approve\/on-call/);
    // bob is not on call: his request waits for approvers, and he may cancel it.
    const bobs = JSON.parse(
      await ok("bob", "request", "sandbox-oncall", "--for", "15m", "--reason", "curious", "--json"),
    ) as { id: string; state: string; autoApproval: unknown };
    expect(bobs).toMatchObject({ state: "pending", autoApproval: null });
    await ok("bob", "cancel", bobs.id);
  });

  it("pre-approves a person for a window, lists it to its approvers and them, and lets only its maker revoke it", async () => {
    const created = JSON.parse(
      await ok(
        "alice",
        "preapprove",
        "dev@example.com",
        "sandbox-scratch",
        "--for",
        "2h",
        "--reason",
        "maintenance night",
        "--json",
      ),
    ) as { id: string; approverId: string };
    expect(created.approverId).toBe("alice@example.com");
    // Inside the window, dev's request is approved by the built-in policy, not by a person.
    expect(
      await ok("dev", "request", "sandbox-scratch", "--for", "15m", "--reason", "maintenance", "--wait"),
    ).toMatch(/access to sandbox-scratch is active until/);
    expect(await ok("dev", "preapprovals")).toMatch(
      new RegExp(`^${created.id}  active +dev@example.com on sandbox-scratch`),
    );
    // Another approver of the target sees it too (who sees nothing: the broker's and the API's tests).
    expect(await ok("bob", "preapprovals", "--target", "sandbox-scratch")).toContain(created.id);
    expect(
      await run(
        "alice",
        "preapprove",
        "alice@example.com",
        "sandbox-scratch",
        "--for",
        "2h",
        "--reason",
        "mine",
      ),
    ).toMatchObject({ code: 4, stderr: expect.stringMatching(/yourself/) });
    expect(
      await run(
        "alice",
        "preapprove",
        "dev@example.com",
        "sandbox-scratch",
        "--for",
        "8d",
        "--reason",
        "long",
      ),
    ).toMatchObject({ code: 2, stderr: expect.stringMatching(/at most 7 days/) });
    expect(await run("bob", "preapprovals", "revoke", created.id)).toMatchObject({ code: 4 });
    expect(await ok("alice", "preapprovals", "revoke", created.id)).toMatch(/revoked/);
    expect(await ok("dev", "preapprovals")).toBe("no pre-approvals\n");
  });

  // Last: it leaves dev a break-glass grant until its end.
  it("breaks glass without approval, refuses a second and self-review, and records an approver's review", async () => {
    const args = ["request", "sandbox-readonly", "--break-glass", "--for", "15m"];
    const glass = JSON.parse(await ok("dev", ...args, "--reason", "sandbox is on fire", "--json"));
    expect(glass).toMatchObject({ targetId: "sandbox-readonly", durationSeconds: 900, review: null });
    expect(glass.grantId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await run("dev", ...args, "--reason", "again")).toMatchObject({
      code: 6,
      stderr: expect.stringMatching(/has not been reviewed yet/),
    });
    expect(await run("alice", ...args, "--reason", "me too")).toMatchObject({
      code: 4,
      stderr: expect.stringMatching(/you may not break glass on sandbox-readonly/),
    });
    expect(await run("dev", "request", "sandbox-readonly", "--break-glass")).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--reason/),
    });

    const open = JSON.parse(await ok("alice", "break-glass", "open", "--json")) as {
      toReview: { id: string }[];
    };
    expect(open.toReview.map((item) => item.id)).toContain(glass.id);
    expect(await ok("dev", "break-glass", "open")).toContain(`your break-glass ${glass.id}`);
    expect(await run("dev", "break-glass", "review", glass.id, "--justified")).toMatchObject({
      code: 4,
      stderr: expect.stringMatching(/your own break-glass/),
    });
    expect(await run("alice", "break-glass", "review", glass.id)).toMatchObject({ code: 2 });
    expect(
      await ok(
        "alice",
        "break-glass",
        "review",
        glass.id,
        "--justified",
        "--comment",
        "confirmed on the bridge",
      ),
    ).toMatch(/marked justified/);
    expect(await run("bob", "break-glass", "review", glass.id, "--unjustified")).toMatchObject({
      code: 6,
      stderr: expect.stringMatching(/already marked justified by alice@example.com/),
    });
    // Reviewed, but its grant is still live: still one at a time.
    expect(await run("dev", ...args, "--reason", "once more")).toMatchObject({
      code: 6,
      stderr: expect.stringMatching(/at most one break-glass at a time/),
    });
  });

  it("writes the access report as CSV for an admin, neutralising formulas, and refuses it to others", async () => {
    const grantId = await approvedGrant("=1+1 report me, please");
    await ok("dev", "creds", grantId, "--format", "json");
    await ok("sec", "revoke", grantId);
    expect(await run("dev", "report", "access", "--from=-1d")).toMatchObject({ code: 4 });
    expect(await run("sec", "report", "access", "--from", "yesterday")).toMatchObject({ code: 2 });
    const csv = await ok("sec", "report", "access", "--from", "1d", "--to", "now", "--format", "csv");
    const [header, ...lines] = csv.split("\r\n");
    expect(header).toMatch(/^grant_id,request_id,holder,target,kind,/);
    const line = lines.find((l) => l.startsWith(grantId)) ?? "";
    expect(line).toContain(`,dev@example.com,sandbox-readonly,request,`);
    expect(line).toContain(`,"'=1+1 report me, please",`);
    expect(line).toMatch(/,(revoking|revoked),sec@example\.com,,,1,/);
    const standing = JSON.parse(await ok("sec", "report", "standing", "--format", "json"));
    expect(standing.active.map((g: { grantId: string }) => g.grantId)).not.toContain(grantId);
  });
});
