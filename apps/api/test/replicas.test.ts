import {
  type AwsSandbox,
  blockActionPayload,
  interactionBody,
  type OidcIssuer,
  postSignedToApp,
  type SlackSandbox,
  startAwsSandbox,
  startOidcIssuer,
  startSlackSandbox,
} from "@leasehold/sandbox";
import { type PrivatePostgres, queueBackends, startPrivatePostgres } from "@leasehold/test-kit";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Stack, startStack } from "./stack.js";

/**
 * N replicas on one PostgreSQL (and, on that backend, one Redis): 2 APIs, 3 workers and 2 Slack bots.
 * 200 calls are spread over them at once: requests, approvals by two approvers racing on different
 * replicas (API or bot), workload leases and revocations; grants last ten seconds, so their deadlines
 * fall due while one worker is SIGKILLed and started again. Then: one grant per approved request,
 * each grant issued, ended and released once in the audit trail, one card per request and each DM
 * sent once (but for deliveries the SIGKILL cut, which are sent at least once), every deadline held,
 * and the audit chain verifies. On each queue backend.
 */
const SWEEP_SECONDS = 1;
/** Scheduling slack on top of the sweep interval: seven processes share two cores here. */
const SLACK_MS = 3000;
/** Sessions are issued 890 s old, so a 900-second grant ends ~10 s after it is issued. */
const SESSION_AGE_ON_ISSUE = 890;
const SIGNING_SECRET = "5d1a7e9c0b2f4a6c8e0a2c4e6a8c0e2f";
const BOT_TOKEN = "xoxb-2222222222-leasehold-replicas";
const CHANNEL = "C0REPLICAS";
const PROD_ROLE = "arn:aws:iam::123456789012:role/ProdReadOnly";
const APP_ROLE = "arn:aws:iam::123456789012:role/OrdersApp";

/** The load: 5 × 6 × (request + 2 approvals) + 15 revocations + 5 × (14 leases + 5 revocations) = 200. */
const REQUESTERS = [1, 2, 3, 4, 5].map((n) => ({ name: `eng${n}`, slackId: `U0ENG${n}` }));
const ROUNDS = 6;
/** LEASEHOLD_WORKER_CONCURRENCY's default: the notification jobs one worker runs at once. */
const NOTIFY_JOBS_A_WORKER_HOLDS = 8;
const WORKLOADS = [1, 2, 3, 4, 5].map((n) => `system:serviceaccount:orders:app${n}`);
const LEASES_PER_WORKLOAD = 14;
const APPROVERS = [
  { name: "alice", slackId: "U0ALICE" },
  { name: "bob", slackId: "U0BOB" },
] as const;

const config = (workloadIssuer: string) => `
identityProviders:
  - name: corp
    issuer: "{issuer}"
    audience: leasehold
  - name: k8s
    kind: workload
    issuer: "${workloadIssuer}"
    audience: leasehold
admins:
  groups: [security]
slack:
  useVerifiedEmail: true
  groups:
    sre: [alice@example.com, bob@example.com]
targets:
  - id: prod
    kind: aws-role
    requesters: { groups: [engineering] }
    approvers: { groups: [sre] }
    requiredApprovals: 1
    maxDuration: 1h
    slack: { approversChannel: ${CHANNEL} }
    aws: { roleArn: ${PROD_ROLE} }
  - id: orders-aws
    kind: aws-role
    maxDuration: 1h
    leases:
      - { provider: k8s, subject: "system:serviceaccount:orders:*", maxTtl: 1h }
    aws: { roleArn: ${APP_ROLE} }
`;

type GrantRow = {
  id: string;
  state: string;
  request_id: string | null;
  principal_id: string;
  expires_at: Date | null;
  ended_at: Date | null;
  released_at: Date | null;
};

describe.each(queueBackends)("N replicas on one database (%s queues)", (backend) => {
  let aws: AwsSandbox;
  let slack: SlackSandbox;
  let people: OidcIssuer;
  let workloads: OidcIssuer;
  let stack: Stack;
  let postgres: PrivatePostgres;
  let startedAt = 0;

  beforeAll(async () => {
    startedAt = Date.now();
    // A server of the test's own: seven processes' pools (BullMQ's per-queue pools on the postgres
    // backend above all) would take the shared test server's 100 connections from the other tests.
    postgres = await startPrivatePostgres({ maxConnections: 400 });
    [aws, people, workloads] = await Promise.all([
      startAwsSandbox({
        roles: [{ arn: PROD_ROLE }, { arn: APP_ROLE }],
        sessionAgeOnIssueSeconds: SESSION_AGE_ON_ISSUE,
      }),
      startOidcIssuer(),
      startOidcIssuer(),
    ]);
    const slackUser = (p: { name: string; slackId: string }) => ({
      id: p.slackId,
      name: p.name,
      email: `${p.name}@example.com`,
      emailConfirmed: true,
    });
    slack = await startSlackSandbox({
      botToken: BOT_TOKEN,
      users: [...REQUESTERS, ...APPROVERS].map(slackUser),
      channels: [{ id: CHANNEL, name: "prod-approvals" }],
      // Slack's one message per second per channel would make this test about Slack's limit.
      rateLimitPerChannelPerSecond: 0,
    });
    stack = await startStack({
      sandbox: aws,
      issuerUrl: people.url,
      config: config(workloads.url),
      apis: 2,
      workers: 3,
      slackBots: 2,
      sweepIntervalSeconds: SWEEP_SECONDS,
      // Long enough that a loaded 2-core machine's live jobs are not taken for stalled ones and run
      // twice; short enough that the killed worker's jobs are run again within the test.
      jobLockSeconds: 10,
      queueBackend: backend,
      databaseAdminUrl: postgres.adminUrl,
      env: {
        // Revocations' denies are released a second after the deadline, so releases happen in the test.
        LEASEHOLD_RELEASE_MARGIN: "1",
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
      },
    });
    console.log(`replicas: stack started in ${Date.now() - startedAt} ms`);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await Promise.all([
      aws?.close(),
      slack?.close(),
      people?.close(),
      workloads?.close(),
      postgres?.destroy(),
    ]);
    console.log(`replicas: whole run ${Date.now() - startedAt} ms`);
  });

  const tokenOf = (name: string, groups: string[]) =>
    people.mint(
      { sub: `sub-${name}`, email: `${name}@example.com`, email_verified: true, groups },
      { audience: "leasehold" },
    );
  /** A client per person and API replica, made once. */
  const clients = new Map<string, ReturnType<Stack["client"]>>();
  const as = async (name: string, groups: string[], replica: number) => {
    const key = `${name}@${replica}`;
    let client = clients.get(key);
    if (!client) {
      client = stack.client(await tokenOf(name, groups), replica);
      clients.set(key, client);
    }
    return client;
  };
  const grantsOf = (requestId: string) =>
    stack.db.query<{ id: string; state: string }>("SELECT id, state FROM grants WHERE request_id = $1", [
      requestId,
    ]);
  const grantState = async (id: string) =>
    (await stack.db.query<{ state: string }>("SELECT state FROM grants WHERE id = $1", [id]))[0]?.state;
  let ops = 0;

  /** An approval that lost the race to the other approver is refused as a conflict; anything else fails. */
  const refusedAsConflict = (result: PromiseSettledResult<unknown>) =>
    result.status === "fulfilled" ||
    (result.reason instanceof TRPCClientError && result.reason.data?.code === "CONFLICT");

  /** Both approvers at once, on different API replicas: one of them approves, the other may be refused. */
  const approveOnApis = async (requestId: string, round: number) => {
    const results = await Promise.allSettled(
      APPROVERS.map(async (approver, i) =>
        (await as(approver.name, ["sre"], (round + i) % 2)).reviews.submit.mutate({
          requestId,
          decision: "approve",
        }),
      ),
    );
    ops += 2;
    for (const result of results) expect(refusedAsConflict(result), String(result)).toBe(true);
  };

  /** Both approvers click Approve at once, each through a different bot replica, signed as Slack signs. */
  const approveInSlack = async (requestId: string) => {
    const answers = await Promise.all(
      APPROVERS.map((approver, i) =>
        postSignedToApp(
          `${stack.botUrls[i]}/slack/events`,
          interactionBody(
            blockActionPayload({
              userId: approver.slackId,
              actionId: "leasehold_approve",
              value: requestId,
              channelId: CHANNEL,
              triggerId: slack.newTriggerId(approver.slackId),
            }),
          ),
          { signingSecret: SIGNING_SECRET },
        ),
      ),
    );
    ops += 2;
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
  };

  /** One requester's rounds: ask, have it approved (API or Slack), and revoke every other grant early. */
  const requesterRounds = async (requester: (typeof REQUESTERS)[number], index: number) => {
    for (let round = 0; round < ROUNDS; round++) {
      const replica = (index + round) % 2;
      const client = await as(requester.name, ["engineering"], replica);
      const request = await client.requests.create.mutate({
        targetId: "prod",
        durationSeconds: 900,
        reason: `replica round ${round}`,
      });
      ops += 1;
      if (round % 3 === 2) await approveInSlack(request.id);
      else await approveOnApis(request.id, round);
      const [grant] = await eventually(
        async () => {
          const rows = await grantsOf(request.id);
          return rows.length > 0 ? rows : undefined;
        },
        30_000,
        `the grant of request ${request.id}`,
      );
      if (round % 2 === 1 && grant) {
        await eventually(
          async () => ((await grantState(grant.id)) === "active" ? true : undefined),
          30_000,
          `grant ${grant.id} to be active`,
        );
        await (await as(requester.name, ["engineering"], 1 - replica)).grants.revoke.mutate({
          grantId: grant.id,
        });
        ops += 1;
      }
    }
  };

  /** One workload's leases, alternating API replicas; every third one is revoked at once. */
  const workloadLeases = async (subject: string, index: number) => {
    const token = await workloads.mint({ sub: subject }, { audience: "leasehold" });
    const apps = [stack.client(token, 0), stack.client(token, 1)];
    for (let i = 0; i < LEASES_PER_WORKLOAD; i++) {
      const app = apps[(index + i) % 2] ?? apps[0];
      const leased = await app?.leases.create.mutate({ targetId: "orders-aws", ttlSeconds: 900 });
      ops += 1;
      if (leased && i % 3 === 0) {
        await apps[(index + i + 1) % 2]?.grants.revoke.mutate({ grantId: leased.grant.id });
        ops += 1;
      }
    }
  };

  it("200 calls across the replicas, a worker SIGKILLed while expiries are due: every invariant holds", async () => {
    const driveStart = Date.now();
    const drive = Promise.all([
      ...REQUESTERS.map((r, i) => requesterRounds(r, i)),
      ...WORKLOADS.map((w, i) => workloadLeases(w, i)),
    ]);
    // As soon as the first grant expires, SIGKILL a worker and start it again: the rest fall due meanwhile.
    const firstExpiry = eventually(
      async () =>
        (await stack.db.query("SELECT 1 FROM grants WHERE state = 'expired' LIMIT 1")).length > 0
          ? true
          : undefined,
      60_000,
      "the first expiry",
    );
    await firstExpiry;
    stack.killWorker();
    await stack.workerExited();
    const killedAt = Date.now();
    await drive;
    console.log(`replicas: ${ops} calls driven in ${Date.now() - driveStart} ms`);
    expect(ops).toBe(200);
    await stack.startWorker();
    console.log(`replicas: worker back ${Date.now() - killedAt} ms after its SIGKILL`);

    await checkEverythingEnded();
    await checkAuditTrail();
    await checkSlack();
    const verification = await (await as("sec", ["security"], 1)).audit.verify.query();
    expect(verification).toMatchObject({ ok: true });
  }, 240_000);

  /** Every grant ends (none is left issuing, active or in debt), within its deadline, and is released. */
  const checkEverythingEnded = async () => {
    const grants = await eventually(
      async () => {
        const rows = await stack.db.query<GrantRow>(
          `SELECT id, state, request_id, principal_id, expires_at, ended_at, released_at FROM grants`,
        );
        const settled = rows.every(
          (g) => ["expired", "revoked", "failed"].includes(g.state) && g.released_at,
        );
        return settled ? rows : undefined;
      },
      90_000,
      "every grant to end and be released",
    );
    expect(grants.filter((g) => g.state === "failed").map((g) => g.id)).toEqual([]);
    let latest = 0;
    for (const grant of grants.filter((g) => g.state === "expired")) {
      const lateness = (grant.ended_at?.getTime() ?? 0) - (grant.expires_at?.getTime() ?? 0);
      latest = Math.max(latest, lateness);
      expect(lateness, `lateness of grant ${grant.id}`).toBeLessThanOrEqual(SWEEP_SECONDS * 1000 + SLACK_MS);
    }
    console.log(`replicas: ${grants.length} grants; latest expiry ${latest} ms after its deadline`);
    // One grant per approved request, and none for any other.
    const requests = await stack.db.query<{ id: string; state: string; grants: number }>(
      `SELECT r.id, r.state, (SELECT count(*)::int FROM grants g WHERE g.request_id = r.id) AS grants
         FROM access_requests r`,
    );
    expect(requests).toHaveLength(REQUESTERS.length * ROUNDS);
    for (const request of requests)
      expect(request, "one grant per approved request").toMatchObject({
        state: "approved",
        grants: 1,
      });
    expect(grants.filter((g) => g.request_id === null)).toHaveLength(WORKLOADS.length * LEASES_PER_WORKLOAD);
  };

  /** Exactly one of each event per grant and per request, whichever replica or sweep got there first. */
  const checkAuditTrail = async () => {
    const counts = await stack.db.query<{ subject_id: string; action: string; n: number }>(
      `SELECT subject_id, action, count(*)::int AS n FROM audit_events
        WHERE action IN ('grant.issued', 'grant.expired', 'grant.revoked', 'grant.released', 'request.approved')
        GROUP BY subject_id, action`,
    );
    const of = (subject: string, action: string) =>
      counts.find((c) => c.subject_id === subject && c.action === action)?.n ?? 0;
    const grants = await stack.db.query<GrantRow>("SELECT id, state, request_id FROM grants");
    for (const grant of grants) {
      const events = ["issued", "expired", "revoked", "released"].map((a) => of(grant.id, `grant.${a}`));
      // A revoked STS session's deny is released after the deadline; an expired one needs no release.
      const expected = grant.state === "revoked" ? [1, 0, 1, 1] : [1, 1, 0, 0];
      expect(events, `issued/expired/revoked/released of ${grant.state} grant ${grant.id}`).toEqual(expected);
      if (grant.request_id) expect(of(grant.request_id, "request.approved")).toBe(1);
    }
  };

  /** One approvers' channel message per request; each DM once per thing it tells. */
  const slackIdOf = (grant: GrantRow) =>
    REQUESTERS.find((r) => grant.principal_id === `${r.name}@example.com`)?.slackId ?? "";
  const checkSlack = async () => {
    const grants = await stack.db.query<GrantRow>(
      "SELECT id, state, principal_id FROM grants WHERE request_id IS NOT NULL",
    );
    const expectedFor = (name: string) => {
      const mine = grants.filter((g) => g.principal_id === `${name}@example.com`);
      return {
        approved: mine.length,
        expired: mine.filter((g) => g.state === "expired").length,
        revoked: mine.filter((g) => g.state === "revoked").length,
      };
    };
    const dmCounts = (slackId: string) => {
      const texts = slack.messages(slack.dmChannelOf(slackId)).map((m) => m.text);
      const count = (pattern: RegExp) => texts.filter((t) => pattern.test(t)).length;
      return {
        approved: count(/was approved by/),
        expired: count(/has expired/),
        revoked: count(/was revoked/),
      };
    };
    // Deliveries trail the trail by a moment: wait until every one has arrived.
    const extraDms = (requester: { name: string; slackId: string }) => {
      const have = dmCounts(requester.slackId);
      const expected = expectedFor(requester.name);
      const kinds = ["approved", "expired", "revoked"] as const;
      if (kinds.some((kind) => have[kind] < expected[kind])) return undefined;
      return kinds.reduce((extra, kind) => extra + have[kind] - expected[kind], 0);
    };
    for (const requester of REQUESTERS) {
      await eventually(
        async () => extraDms(requester),
        60_000,
        `${requester.name}'s DMs: ${JSON.stringify(expectedFor(requester.name))}, have ${JSON.stringify(dmCounts(requester.slackId))}`,
      );
    }
    // Once the dispatcher has read the whole trail, nothing more is on its way.
    await eventually(
      async () => {
        const [row] = await stack.db.query<{ caught_up: boolean }>(
          `SELECT coalesce((SELECT seq FROM audit_cursors WHERE name = 'slack'), 0)
                  >= (SELECT max(seq) FROM audit_events) AS caught_up`,
        );
        return row?.caught_up ? true : undefined;
      },
      30_000,
      "the notification dispatcher to catch up",
    );
    // Notifications are delivered at least once (README): a DM job the SIGKILL cut between Slack's answer
    // and the job's completion is run again by another worker. So a DM may arrive twice only for a
    // delivery the killed worker held: at most its notification concurrency in all; no other repeats.
    const extra = REQUESTERS.reduce((sum, requester) => sum + (extraDms(requester) ?? 0), 0);
    expect(extra).toBeLessThanOrEqual(NOTIFY_JOBS_A_WORKER_HOLDS);
    // The granted DM and the reminder name the grant (the reminder in its buttons): each at most once,
    // since a delivery that finds the grant already ended says nothing of it being granted.
    const dmsNaming = (grant: GrantRow, pattern: RegExp) =>
      slack
        .messages(slack.dmChannelOf(slackIdOf(grant)))
        .filter((m) => pattern.test(m.text) && JSON.stringify([m.text, m.blocks]).includes(grant.id)).length;
    const repeated = grants.flatMap((g) =>
      [/granted until/, /ends at/].map((p) => ({ grant: g.id, what: String(p), n: dmsNaming(g, p) })),
    );
    expect(repeated.filter((r) => r.n > 1).length + extra).toBeLessThanOrEqual(NOTIFY_JOBS_A_WORKER_HOLDS);
    // One card per request, rewritten in place: the channel holds exactly the messages Leasehold
    // remembers, one per request. (A card posted after the approval never had the request's buttons,
    // so the ids in the messages cannot tell this.)
    const posts = slack.messages(CHANNEL).map((m) => m.ts);
    const remembered = await stack.db.query<{ ts: string }>(
      "SELECT m.ts FROM access_requests r LEFT JOIN slack_request_messages m ON m.request_id = r.id",
    );
    expect(remembered).toHaveLength(REQUESTERS.length * ROUNDS);
    expect(remembered.map((m) => m.ts).sort()).toEqual([...posts].sort());
  };
});
