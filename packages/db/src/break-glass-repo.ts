import type { AccessRequest, BreakGlassReview, BreakGlassVerdict } from "@leasehold/domain";
import { type RequestRow, toRequest } from "./access-request-repo.js";
import type { SqlExecutor } from "./database.js";
import type { SlackRequestMessage } from "./notification-repo.js";

type ReviewRow = {
  request_id: string;
  reviewer_id: string;
  verdict: BreakGlassVerdict;
  comment: string | null;
  reviewed_at: Date;
};

const toReview = (row: ReviewRow): BreakGlassReview => ({
  requestId: row.request_id,
  reviewerId: row.reviewer_id,
  verdict: row.verdict,
  comment: row.comment,
  reviewedAt: row.reviewed_at,
});

/** Grant states in which a break-glass still gives (or may soon give) access. */
const LIVE = "('issuing', 'active', 'revoking', 'revocation_failed')";

/** Why a person may not break glass now: their newest break-glass that is unreviewed or still live. */
export type BlockingBreakGlass = {
  readonly request: AccessRequest;
  readonly reviewed: boolean;
  /** Its grant's state, when it has a grant. */
  readonly grantState: string | null;
};

export type BreakGlassRepo = ReturnType<typeof breakGlassRepo>;

/** Break-glass requests (rows of access_requests with break_glass), their reviews and broadcasts. */
export function breakGlassRepo(sql: SqlExecutor) {
  return {
    /**
     * The requester's newest break-glass that blocks another: not yet reviewed, or its grant still
     * live. Callers that then insert one hold the requester's lock (grants.lockScope), so two
     * concurrent break-glasses are serialized and the second sees the first.
     */
    async findBlocking(requesterId: string): Promise<BlockingBreakGlass | undefined> {
      const [row] = await sql.query<RequestRow & { reviewed: boolean; grant_state: string | null }>(
        `SELECT r.*, (b.request_id IS NOT NULL) AS reviewed, g.state AS grant_state
         FROM access_requests r
         LEFT JOIN break_glass_reviews b ON b.request_id = r.id
         LEFT JOIN grants g ON g.request_id = r.id
         WHERE r.requester_id = $1 AND r.break_glass
           AND (b.request_id IS NULL OR g.state IN ${LIVE})
         ORDER BY r.created_at DESC LIMIT 1`,
        [requesterId],
      );
      return row && { request: toRequest(row), reviewed: row.reviewed, grantState: row.grant_state };
    },

    /** Break-glasses nobody has reviewed yet, on the given targets, oldest first. */
    async listUnreviewed(targetIds: readonly string[], limit: number): Promise<AccessRequest[]> {
      const rows = await sql.query<RequestRow>(
        `SELECT r.* FROM access_requests r
         LEFT JOIN break_glass_reviews b ON b.request_id = r.id
         WHERE r.break_glass AND b.request_id IS NULL AND r.target_id = ANY($1::text[])
         ORDER BY r.created_at LIMIT $2`,
        [targetIds, limit],
      );
      return rows.map(toRequest);
    },

    /** Records the review; returns false if the break-glass already has one (the first one stays). */
    async insertReview(review: BreakGlassReview, requesterId: string): Promise<boolean> {
      const rows = await sql.query(
        `INSERT INTO break_glass_reviews (request_id, requester_id, reviewer_id, verdict, comment, reviewed_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (request_id) DO NOTHING RETURNING request_id`,
        [review.requestId, requesterId, review.reviewerId, review.verdict, review.comment, review.reviewedAt],
      );
      return rows.length === 1;
    },

    async findReview(requestId: string): Promise<BreakGlassReview | undefined> {
      const [row] = await sql.query<ReviewRow>(
        "SELECT request_id, reviewer_id, verdict, comment, reviewed_at FROM break_glass_reviews WHERE request_id = $1",
        [requestId],
      );
      return row && toReview(row);
    },

    /** Where the break-glass was broadcast, in the order the posts were made. */
    async listMessages(requestId: string): Promise<SlackRequestMessage[]> {
      const rows = await sql.query<{ channel: string; ts: string }>(
        "SELECT channel, ts FROM slack_break_glass_messages WHERE request_id = $1 ORDER BY created_at, channel",
        [requestId],
      );
      return rows.map((row) => ({ requestId, channel: row.channel, ts: row.ts }));
    },

    /** Remembers a broadcast post; returns false if that channel already has one (the first stays). */
    async saveMessage(message: SlackRequestMessage, at: Date): Promise<boolean> {
      const rows = await sql.query(
        `INSERT INTO slack_break_glass_messages (request_id, channel, ts, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (request_id, channel) DO NOTHING RETURNING request_id`,
        [message.requestId, message.channel, message.ts, at],
      );
      return rows.length === 1;
    },
  };
}
