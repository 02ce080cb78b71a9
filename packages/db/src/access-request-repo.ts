import type { AccessRequest, RequestState, Review, ReviewDecision } from "@leasehold/domain";
import type { SqlExecutor } from "./database.js";

export type RequestRow = {
  id: string;
  target_id: string;
  requester_id: string;
  reason: string;
  ticket: string | null;
  duration_seconds: number;
  scopes: string[];
  required_approvals: number;
  state: RequestState;
  created_at: Date;
  pending_until: Date;
  decided_at: Date | null;
  escalation_level: number;
  escalate_at: Date | null;
  break_glass: boolean;
};

type ReviewRow = {
  request_id: string;
  reviewer_id: string;
  decision: ReviewDecision;
  comment: string | null;
  created_at: Date;
};

export const toRequest = (row: RequestRow): AccessRequest => ({
  id: row.id,
  targetId: row.target_id,
  requesterId: row.requester_id,
  reason: row.reason,
  ticket: row.ticket,
  durationSeconds: row.duration_seconds,
  scopes: row.scopes,
  requiredApprovals: row.required_approvals,
  state: row.state,
  createdAt: row.created_at,
  pendingUntil: row.pending_until,
  decidedAt: row.decided_at,
  escalationLevel: row.escalation_level,
  escalateAt: row.escalate_at,
  breakGlass: row.break_glass,
});

const toReview = (row: ReviewRow): Review => ({
  requestId: row.request_id,
  reviewerId: row.reviewer_id,
  decision: row.decision,
  comment: row.comment,
  createdAt: row.created_at,
});

export type AccessRequestRepo = ReturnType<typeof accessRequestRepo>;

/** Access requests and their reviews. */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a repository: one query per method over the executor it closes over.
export function accessRequestRepo(sql: SqlExecutor) {
  return {
    async insert(request: AccessRequest): Promise<void> {
      await sql.query(
        `INSERT INTO access_requests (id, target_id, requester_id, reason, ticket, duration_seconds,
           required_approvals, state, created_at, pending_until, decided_at, escalation_level, escalate_at,
           scopes, break_glass)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::text[], $15)`,
        [
          request.id,
          request.targetId,
          request.requesterId,
          request.reason,
          request.ticket,
          request.durationSeconds,
          request.requiredApprovals,
          request.state,
          request.createdAt,
          request.pendingUntil,
          request.decidedAt,
          request.escalationLevel,
          request.escalateAt,
          [...request.scopes],
          request.breakGlass,
        ],
      );
    },

    async findById(id: string): Promise<AccessRequest | undefined> {
      const [row] = await sql.query<RequestRow>("SELECT * FROM access_requests WHERE id = $1", [id]);
      return row && toRequest(row);
    },

    /** Reads the request and locks it until the transaction ends, so that decisions on it are serialized. */
    async lockById(id: string): Promise<AccessRequest | undefined> {
      const [row] = await sql.query<RequestRow>("SELECT * FROM access_requests WHERE id = $1 FOR UPDATE", [
        id,
      ]);
      return row && toRequest(row);
    },

    /** Moves a pending request to a final state; returns false if it was no longer pending. */
    async decide(id: string, state: Exclude<RequestState, "pending">, at: Date): Promise<boolean> {
      const rows = await sql.query(
        "UPDATE access_requests SET state = $2, decided_at = $3 WHERE id = $1 AND state = 'pending' RETURNING id",
        [id, state, at],
      );
      return rows.length === 1;
    },

    /** Records a review; returns false if this reviewer already reviewed the request. */
    async insertReview(review: Review): Promise<boolean> {
      const rows = await sql.query(
        `INSERT INTO reviews (request_id, reviewer_id, decision, comment, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (request_id, reviewer_id) DO NOTHING RETURNING request_id`,
        [review.requestId, review.reviewerId, review.decision, review.comment, review.createdAt],
      );
      return rows.length === 1;
    },

    async listReviews(requestId: string): Promise<Review[]> {
      const rows = await sql.query<ReviewRow>(
        "SELECT * FROM reviews WHERE request_id = $1 ORDER BY created_at, reviewer_id",
        [requestId],
      );
      return rows.map(toReview);
    },

    async listByRequester(requesterId: string, limit: number): Promise<AccessRequest[]> {
      const rows = await sql.query<RequestRow>(
        "SELECT * FROM access_requests WHERE requester_id = $1 ORDER BY created_at DESC LIMIT $2",
        [requesterId, limit],
      );
      return rows.map(toRequest);
    },

    /** A requester's pending requests still inside their approval window, and when the first closes. */
    async countPending(requesterId: string, now: Date): Promise<{ count: number; nextFreeAt: Date | null }> {
      const [row] = await sql.query<{ count: number; next_free_at: Date | null }>(
        `SELECT count(*)::int AS count, min(pending_until) AS next_free_at FROM access_requests
         WHERE requester_id = $1 AND state = 'pending' AND pending_until > $2`,
        [requesterId, now],
      );
      return { count: row?.count ?? 0, nextFreeAt: row?.next_free_at ?? null };
    },

    /** Pending requests for the given targets, oldest first. */
    async listPending(targetIds: readonly string[], limit: number): Promise<AccessRequest[]> {
      const rows = await sql.query<RequestRow>(
        `SELECT * FROM access_requests WHERE state = 'pending' AND target_id = ANY($1::text[])
         ORDER BY created_at LIMIT $2`,
        [targetIds, limit],
      );
      return rows.map(toRequest);
    },

    /**
     * Pending requests whose escalation is due at `now` and whose approval window is still open,
     * the longest overdue first.
     */
    async listEscalationDue(now: Date, limit: number): Promise<AccessRequest[]> {
      const rows = await sql.query<RequestRow>(
        `SELECT * FROM access_requests
         WHERE state = 'pending' AND escalate_at IS NOT NULL AND escalate_at <= $1 AND pending_until > $1
         ORDER BY escalate_at LIMIT $2`,
        [now, limit],
      );
      return rows.map(toRequest);
    },

    /**
     * Moves a pending request from `fromLevel` to `toLevel`, due again at `nextAt`, if it is still
     * pending, still at `fromLevel`, due at `now` and not yet expired. Returns false otherwise: another
     * worker took this step, or a decision came first. The condition is the guard, so replicas need no lock.
     */
    async escalate(
      id: string,
      step: { fromLevel: number; toLevel: number; nextAt: Date | null },
      now: Date,
    ): Promise<boolean> {
      const rows = await sql.query(
        `UPDATE access_requests SET escalation_level = $3, escalate_at = $4
         WHERE id = $1 AND escalation_level = $2 AND state = 'pending'
           AND escalate_at IS NOT NULL AND escalate_at <= $5 AND pending_until > $5
         RETURNING id`,
        [id, step.fromLevel, step.toLevel, step.nextAt, now],
      );
      return rows.length === 1;
    },

    /** Stops a request at `level` from escalating (its target has no further level any more). */
    async stopEscalation(id: string, level: number): Promise<void> {
      await sql.query(
        "UPDATE access_requests SET escalate_at = NULL WHERE id = $1 AND escalation_level = $2 AND state = 'pending'",
        [id, level],
      );
    },

    /** Pending requests whose approval window closed before `now`. */
    async listTimedOut(now: Date, limit: number): Promise<AccessRequest[]> {
      const rows = await sql.query<RequestRow>(
        `SELECT * FROM access_requests WHERE state = 'pending' AND pending_until <= $1
         ORDER BY pending_until LIMIT $2`,
        [now, limit],
      );
      return rows.map(toRequest);
    },
  };
}
