import type { Database } from "@leasehold/db";
import { grantJobId, queueRegistry } from "@leasehold/queue";
import type { AwsSandbox } from "@leasehold/sandbox";
import type { Redis } from "ioredis";

/**
 * When each stage of one grant's issue happened, in epoch milliseconds, from what the parts record
 * anyway (no instrumentation in the apps): BullMQ's event stream on Redis (its entry ids are Redis's
 * clock, in ms) for the job's add and its move to active, the STS stand-in's record of the session
 * (this process's clock), and the grant's `issued_at` (the worker's clock just before the activating
 * commit). One host, one clock; the stored times have millisecond resolution.
 */
export type StageTimes = {
  readonly jobAdded: number;
  readonly jobActive: number;
  readonly stsAnswered: number;
  readonly issuedAt: number;
};

/** The stages, from the approval's response (`approvedAt`) to the credential in hand. */
export type StageSample = StageTimes & {
  readonly approvedAt: number;
  readonly seenActiveAt: number;
  readonly credentialsAt: number;
};

/** Reads the stage times of `grantId`'s first issue attempt; undefined where a record is missing. */
export async function readStageTimes(
  parts: { db: Database; redis: Redis; queuePrefix: string; sandbox: AwsSandbox },
  grantId: string,
): Promise<StageTimes | undefined> {
  const stream = `${parts.queuePrefix}:${queueRegistry.grantIssue.name}:events`;
  // Newest first; the events of this sample's job are among the last few.
  const entries = await parts.redis.xrevrange(stream, "+", "-", "COUNT", 50);
  const jobId = grantJobId(grantId);
  const eventAt = (event: string) => {
    const entry = entries.find(
      ([, fields]) => field(fields, "jobId") === jobId && field(fields, "event") === event,
    );
    return entry ? Number(entry[0].split("-")[0]) : undefined;
  };
  const sessionName = `lh-${grantId}-a1`;
  const session = parts.sandbox.issued.findLast((s) => s.roleSessionName === sessionName);
  const [row] = await parts.db.query<{ issued_at: Date | null }>(
    "SELECT issued_at FROM grants WHERE id = $1",
    [grantId],
  );
  const jobAdded = eventAt("added") ?? eventAt("waiting");
  const jobActive = eventAt("active");
  const issuedAt = row?.issued_at?.getTime();
  if (jobAdded === undefined || jobActive === undefined || !session || issuedAt === undefined)
    return undefined;
  return { jobAdded, jobActive, stsAnswered: session.issuedAt.getTime(), issuedAt };
}

/** The stages' durations, in ms, in the order they happen. */
export const STAGES: readonly { readonly name: string; readonly of: (s: StageSample) => number }[] = [
  { name: "job added → job taken (pick-up, Redis clock)", of: (s) => s.jobActive - s.jobAdded },
  {
    name: "approval response → job taken (negative: taken before the response)",
    of: (s) => s.jobActive - s.approvedAt,
  },
  {
    name: "job taken → STS answered (attempt committed, checks, AssumeRole)",
    of: (s) => s.stsAnswered - s.jobActive,
  },
  { name: "STS answered → issued_at (credential sealed)", of: (s) => s.issuedAt - s.stsAnswered },
  { name: "issued_at → seen active (the activating commit)", of: (s) => s.seenActiveAt - s.issuedAt },
  {
    name: "seen active → credentials in hand (grants.credentials)",
    of: (s) => s.credentialsAt - s.seenActiveAt,
  },
];

function field(fields: readonly string[], name: string): string | undefined {
  const i = fields.indexOf(name);
  return i >= 0 && i % 2 === 0 ? fields[i + 1] : undefined;
}

/**
 * Epoch milliseconds with sub-millisecond resolution on the same clock as `Date.now()`:
 * `performance.timeOrigin` can be off the wall clock by a few milliseconds, so the offset is taken at
 * the moment `Date.now()` ticks over.
 */
export function epochClock(): () => number {
  const start = Date.now();
  let now = start;
  while (now === start) now = Date.now();
  const offset = now - performance.now();
  return () => offset + performance.now();
}
