import { loadavg } from "node:os";
import type { Database } from "@leasehold/db";
import type { Bench, Figure } from "./bench-result.js";
import {
  type Acknowledgement,
  type Interaction,
  type InteractionKind,
  interactionSender,
  sendAtRate,
} from "./p6-slack-interactions.js";
import {
  APPROVERS,
  approverSlackId,
  SIGNING_SECRET,
  type SlackBenchStack,
  startSlackBenchStack,
  TARGETS,
  targetId,
} from "./p6-slack-stack.js";
import { runConcurrently, summarize } from "./stats.js";

/**
 * P6: signed Slack interactions at 20 a second against the bot's HTTP receiver (Bolt 5, its requests
 * checked first: signature, timestamp, replay cache), each on a pending request of its own: three in
 * four are Approve clicks (block_actions; the bot acknowledges first, then records the approval,
 * which is final: the request is approved and a grant issued), one in four a Deny modal submission
 * (view_submission; the bot records the denial before it acknowledges, so that it can answer a refusal
 * in the modal). Measured: the time to the HTTP acknowledgement; then that every interaction was
 * answered 200 and every decision recorded. Baseline: 20 more of the same, one at a time, after the load.
 * BENCH_P6_SECONDS shortens the run while developing.
 */
const RATE_PER_SECOND = 20;
const SECONDS = Number(process.env.BENCH_P6_SECONDS ?? 30);
const IDLE_SAMPLES = 20;
const TARGET_P99_MS = 300;
/** Approvals are recorded after the acknowledgement; how long to wait for the last of them. */
const SETTLE_TIMEOUT_MS = 30_000;

const kindOf = (i: number): InteractionKind => (i % 4 === 3 ? "deny submission" : "approve click");

export const p6SlackAcknowledgement: Bench = {
  id: "P6",
  title: "Slack interaction acknowledgement under load (20 signed interactions per second)",
  async run(log) {
    const total = RATE_PER_SECOND * SECONDS;
    const requesters = Math.ceil((total + IDLE_SAMPLES) / TARGETS);
    log(`starting the stack with the Slack bot (load average ${load()})`);
    const bench = await startSlackBenchStack();
    try {
      const requestIds = await seedPendingRequests(bench, requesters, log);
      const interactions = requestIds.map(
        (requestId, i): Interaction => ({
          kind: kindOf(i),
          requestId,
          userId: approverSlackId(i % APPROVERS),
        }),
      );
      const loaded = interactions.slice(0, total);
      const idle = interactions.slice(total, total + IDLE_SAMPLES);
      const sender = interactionSender(bench.eventsUrl, SIGNING_SECRET);
      try {
        log(`${RATE_PER_SECOND} per second for ${SECONDS} s: ${total} interactions (load average ${load()})`);
        const { acks, senderLateMaxMs } = await sendAtRate(loaded, RATE_PER_SECOND, sender.send);
        const loadAtEnd = load();
        // The baseline after the load, on the warmed-up bot: one interaction at a time, nothing else in flight.
        const idleAcks: Acknowledgement[] = [];
        for (const interaction of idle) idleAcks.push(await sender.send(interaction));
        const recorded = await waitForDecisions(
          bench.stack.db,
          interactions.slice(0, IDLE_SAMPLES + total),
          log,
        );
        return report({ idleAcks, acks, senderLateMaxMs, recorded, loadAtEnd, requesters });
      } finally {
        await sender.close();
      }
    } finally {
      await bench.stop();
    }
  },
};

/** `requesters × TARGETS` pending requests through the API (one per requester and target), in creation order. */
async function seedPendingRequests(
  bench: SlackBenchStack,
  requesters: number,
  log: (line: string) => void,
): Promise<string[]> {
  const started = Date.now();
  const clients = await Promise.all(Array.from({ length: requesters }, (_, r) => bench.requesterClient(r)));
  const ids: string[] = new Array(requesters * TARGETS);
  await runConcurrently(requesters * TARGETS, 8, async (i) => {
    const client = clients[i % requesters];
    if (!client) throw new Error(`no client for requester ${i % requesters}`);
    const request = await client.requests.create.mutate({
      targetId: targetId(Math.floor(i / requesters)),
      durationSeconds: 900,
      reason: "bench P6: a request for an approver to click",
    });
    ids[i] = request.id;
  });
  log(`${ids.length} pending requests created through the API in ${Date.now() - started} ms`);
  return ids;
}

type Recorded = { approved: number; denied: number; pending: number; reviewEvents: number; grants: number };

/** Waits until no request the bench touched is pending (or the timeout), then counts what was recorded. */
async function waitForDecisions(
  db: Database,
  interactions: readonly Interaction[],
  log: (line: string) => void,
): Promise<Recorded> {
  const ids = interactions.map((i) => i.requestId);
  const giveUpAt = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const [row] = await db.query<{ approved: string; denied: string; pending: string }>(
      `SELECT count(*) FILTER (WHERE state = 'approved')::text AS approved,
              count(*) FILTER (WHERE state = 'denied')::text AS denied,
              count(*) FILTER (WHERE state = 'pending')::text AS pending
       FROM access_requests WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const pending = Number(row?.pending ?? 0);
    if (pending === 0 || Date.now() > giveUpAt) {
      const [audit] = await db.query<{ reviews: string; grants: string }>(
        `SELECT (SELECT count(*) FROM audit_events WHERE action = 'request.reviewed'
                   AND subject_id = ANY($1::text[]))::text AS reviews,
                (SELECT count(*) FROM grants WHERE request_id = ANY($1::uuid[]))::text AS grants`,
        [ids],
      );
      return {
        approved: Number(row?.approved ?? 0),
        denied: Number(row?.denied ?? 0),
        pending,
        reviewEvents: Number(audit?.reviews ?? 0),
        grants: Number(audit?.grants ?? 0),
      };
    }
    log(`${pending} requests still pending`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function report(input: {
  idleAcks: readonly Acknowledgement[];
  acks: readonly Acknowledgement[];
  senderLateMaxMs: number;
  recorded: Recorded;
  loadAtEnd: string;
  requesters: number;
}) {
  const { idleAcks, acks, recorded } = input;
  const answered = (a: Acknowledgement) => a.status === 200 && !a.body.includes('"response_action"');
  const dropped = acks.filter((a) => !answered(a));
  const all = summarize(acks.map((a) => a.ms));
  const byKind = (kind: InteractionKind, from: readonly Acknowledgement[]) =>
    summarize(from.filter((a) => a.kind === kind).map((a) => a.ms));
  const clicks = byKind("approve click", acks);
  const denials = byKind("deny submission", acks);
  const idle = summarize(idleAcks.map((a) => a.ms));
  const sent = idleAcks.length + acks.length;
  const wantApproved = [...idleAcks, ...acks].filter((a) => a.kind === "approve click").length;
  const wantDenied = sent - wantApproved;
  const allRecorded =
    recorded.approved === wantApproved &&
    recorded.denied === wantDenied &&
    recorded.reviewEvents === sent &&
    recorded.grants === wantApproved;
  const met = all.p99 <= TARGET_P99_MS && dropped.length === 0 && allRecorded;
  const figure = (name: string, value: number, unit = "ms"): Figure => ({ name, value, unit });
  return {
    id: "P6",
    title: p6SlackAcknowledgement.title,
    figures: [
      figure("acknowledgement p50, all", all.p50),
      figure("acknowledgement p99, all", all.p99),
      figure("acknowledgement max, all", all.max),
      figure("approve clicks p50 (ack first)", clicks.p50),
      figure("approve clicks p99", clicks.p99),
      figure("deny submissions p50 (decision recorded before the ack)", denials.p50),
      figure("deny submissions p99", denials.p99),
      figure("dropped (not answered 200, or a refusal)", dropped.length, ""),
      figure("decisions recorded (request.reviewed events)", recorded.reviewEvents, `of ${sent}`),
      figure("requests approved, with a grant", recorded.grants, `of ${wantApproved}`),
      figure("requests denied", recorded.denied, `of ${wantDenied}`),
    ],
    baselines: [
      figure("one at a time after the load, p50", idle.p50),
      figure("one at a time after the load, max", idle.max),
    ],
    target: {
      description: `p99 acknowledgement ≤ ${TARGET_P99_MS} ms, 0 dropped, every decision recorded`,
      met,
    },
    notes: [
      `${acks.length} interactions at ${RATE_PER_SECOND} per second, open loop (sent on schedule whether or not` +
        ` earlier ones were answered; the sender was at most ${input.senderLateMaxMs.toFixed(1)} ms late),` +
        ` over up to 64 keep-alive connections; each signed (v0, fresh timestamp) just before sending`,
      `each on a pending request of its own (${input.requesters} requesters × ${TARGETS} targets, created through` +
        ` the API); ${APPROVERS} approvers mapped in slack.users; requiredApprovals 1, so every click is a final` +
        " approval (request approved, grant created, issue job queued, the worker issuing meanwhile)",
      "approve click: the bot checks the request (signature, timestamp, replay cache in Redis), Bolt acks," +
        " then the approval is recorded; deny submission: the denial is recorded (one locked transaction)" +
        " before the ack, so a refusal can be shown in the modal. Bolt's processBeforeResponse is false",
      `${dropped[0] ? `first dropped: HTTP ${dropped[0].status} ${dropped[0].body.slice(0, 80)}; ` : ""}` +
        `load average ${input.loadAtEnd} at the end; the bot, API and worker run from TypeScript through tsx` +
        " (test-kit's startStack)",
    ],
  };
}

const load = () => (loadavg()[0] ?? 0).toFixed(2);
