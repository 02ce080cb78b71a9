import type { Database } from "@leasehold/db";
import { createQueueProducer, grantQueues, type QueueConnection } from "@leasehold/queue";
import { runConcurrently } from "./stats.js";

/** What the seeded grants look like: issued through the aws-role target of the test configuration. */
export type SeedShape = {
  readonly targetId: string;
  readonly principalId: string;
  readonly roleArn: string;
};

export type SeededGrant = { readonly id: string; readonly expiresAt: Date };

/**
 * A sealed STS credential as the broker stores it: version, nonce and tag (29 bytes) around the
 * JSON of the stand-in's session (≈413 bytes). Its bytes are filler: nobody opens it, but the row
 * and the UPDATE that wipes it have their production size.
 */
const SEALED_CREDENTIAL_BYTES = 442;

/**
 * Inserts `count` active aws-role grants, each behind an approved request, whose deadlines are spread
 * evenly over [windowStart, windowStart + windowMs), in one transaction of set-based SQL (100,000
 * grants through the API would take far too long). Rows are what the worker writes on issue: issued
 * 900 s before the deadline, first attempt, STS session reference, sealed credential. Deadlines have
 * millisecond precision, as every deadline the broker writes (they come from JavaScript Dates).
 * Not seeded: review rows and the audit events of request and issue, which the expiry path never reads.
 * Returns the grants by deadline.
 */
export async function seedActiveGrants(
  db: Database,
  shape: SeedShape,
  options: { count: number; windowStart: Date; windowMs: number },
): Promise<SeededGrant[]> {
  return db.transaction(async (tx) => {
    await tx.query(
      `CREATE TEMP TABLE bench_seed ON COMMIT DROP AS
       SELECT gen_random_uuid() AS request_id, gen_random_uuid() AS grant_id,
              $1::timestamptz + floor(i * $2::float8 / $3)::integer * interval '1 millisecond' AS expires_at
       FROM generate_series(0, $3::integer - 1) AS i`,
      [options.windowStart, options.windowMs, options.count],
    );
    await tx.query(
      `INSERT INTO access_requests (id, target_id, requester_id, reason, ticket, duration_seconds,
         required_approvals, state, created_at, pending_until, decided_at)
       SELECT request_id, $1, $2, 'bench: seeded for the expiry benchmark', NULL, 900, 2, 'approved',
              expires_at - interval '960 seconds', expires_at + interval '2640 seconds',
              expires_at - interval '901 seconds'
       FROM bench_seed`,
      [shape.targetId, shape.principalId],
    );
    await tx.query(
      `INSERT INTO grants (id, request_id, target_id, principal_id, state, duration_seconds, created_at,
         updated_at, issued_at, expires_at, ended_at, provider_ref, issue_attempts, last_error, credential,
         released_at)
       SELECT grant_id, request_id, $1, $2, 'active', 900, expires_at - interval '901 seconds',
              expires_at - interval '900 seconds', expires_at - interval '900 seconds', expires_at, NULL,
              jsonb_build_object(
                'roleArn', $3::text,
                'sessionName', 'lh-' || grant_id || '-a1',
                'sourceIdentity', $2::text,
                'accessKeyId', 'ASIA' || upper(substr(md5(grant_id::text), 1, 16)),
                'assumedRoleId', 'AROABENCHSEEDED0000000:lh-' || grant_id || '-a1'),
              1, NULL,
              '\\x01'::bytea || substring(decode(repeat(md5(grant_id::text), 28), 'hex') FROM 1 FOR $4::integer),
              NULL
       FROM bench_seed`,
      [shape.targetId, shape.principalId, shape.roleArn, SEALED_CREDENTIAL_BYTES - 1],
    );
    const rows = await tx.query<{ id: string; expires_at: Date }>(
      "SELECT grant_id AS id, expires_at FROM bench_seed ORDER BY expires_at",
    );
    return rows.map((row) => ({ id: row.id, expiresAt: row.expires_at }));
  });
}

/**
 * Schedules each grant's expiry job through the producer the broker uses after an issue
 * (`GrantQueues.expireAt`: a delayed job under the grant's job id), `lanes` calls in flight at once
 * over one Redis connection, so Redis holds exactly what it would after these grants were issued.
 */
export async function scheduleExpiries(
  connection: QueueConnection,
  grants: readonly SeededGrant[],
  lanes: number,
): Promise<void> {
  const producer = createQueueProducer(connection);
  try {
    const queues = grantQueues(producer);
    await runConcurrently(grants.length, lanes, async (i) => {
      const grant = grants[i];
      if (grant) await queues.expireAt(grant.id, grant.expiresAt, new Date());
    });
  } finally {
    await producer.close();
  }
}
