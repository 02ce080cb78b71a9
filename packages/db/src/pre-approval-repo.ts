import type { PreApproval } from "@leasehold/domain";
import type { SqlExecutor } from "./database.js";

type PreApprovalRow = {
  id: string;
  target_id: string;
  principal_id: string;
  approver_id: string;
  reason: string;
  starts_at: Date;
  ends_at: Date;
  created_at: Date;
  revoked_at: Date | null;
  revoked_by: string | null;
};

const toPreApproval = (row: PreApprovalRow): PreApproval => ({
  id: row.id,
  targetId: row.target_id,
  principalId: row.principal_id,
  approverId: row.approver_id,
  reason: row.reason,
  startsAt: row.starts_at,
  endsAt: row.ends_at,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
  revokedBy: row.revoked_by,
});

/** A listing's filters; each one given narrows it. */
export type PreApprovalFilter = {
  readonly targetId?: string | undefined;
  readonly principalId?: string | undefined;
  /** Only windows that cover this instant (started, not ended, not revoked). */
  readonly activeAt?: Date | undefined;
  /** Only windows not ended and not revoked by this instant: the current and the upcoming ones. */
  readonly liveAt?: Date | undefined;
  readonly limit: number;
};

export type PreApprovalRepo = ReturnType<typeof preApprovalRepo>;

/** Pre-approval windows. Principal ids are stored canonical (principalIdSchema), so equality is exact. */
export function preApprovalRepo(sql: SqlExecutor) {
  return {
    async insert(p: PreApproval): Promise<void> {
      await sql.query(
        `INSERT INTO pre_approvals (id, target_id, principal_id, approver_id, reason, starts_at, ends_at,
           created_at, revoked_at, revoked_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          p.id,
          p.targetId,
          p.principalId,
          p.approverId,
          p.reason,
          p.startsAt,
          p.endsAt,
          p.createdAt,
          p.revokedAt,
          p.revokedBy,
        ],
      );
    },

    async findById(id: string): Promise<PreApproval | undefined> {
      const [row] = await sql.query<PreApprovalRow>("SELECT * FROM pre_approvals WHERE id = $1", [id]);
      return row && toPreApproval(row);
    },

    /**
     * Withdraws a window that has not ended or been withdrawn yet; returns the updated row, or
     * undefined when there was nothing left to withdraw (so two revocations record one event).
     */
    async revoke(id: string, by: string, at: Date): Promise<PreApproval | undefined> {
      const [row] = await sql.query<PreApprovalRow>(
        `UPDATE pre_approvals SET revoked_at = $3, revoked_by = $2
         WHERE id = $1 AND revoked_at IS NULL AND ends_at > $3 RETURNING *`,
        [id, by, at],
      );
      return row && toPreApproval(row);
    },

    /**
     * A window that covers `at` for this person and target, not revoked; the one ending last when
     * several overlap. This is the auto-approval's question, asked on every request.
     */
    async activeFor(principalId: string, targetId: string, at: Date): Promise<PreApproval | undefined> {
      const [row] = await sql.query<PreApprovalRow>(
        `SELECT * FROM pre_approvals
         WHERE principal_id = $1 AND target_id = $2 AND ends_at > $3 AND starts_at <= $3
           AND revoked_at IS NULL
         ORDER BY ends_at DESC LIMIT 1`,
        [principalId, targetId, at],
      );
      return row && toPreApproval(row);
    },

    /** Windows matching every filter given, the latest to start first. */
    async list(filter: PreApprovalFilter): Promise<PreApproval[]> {
      const rows = await sql.query<PreApprovalRow>(
        `SELECT * FROM pre_approvals
         WHERE ($1::text IS NULL OR target_id = $1)
           AND ($2::text IS NULL OR principal_id = $2)
           AND ($3::timestamptz IS NULL OR (starts_at <= $3 AND ends_at > $3 AND revoked_at IS NULL))
           AND ($4::timestamptz IS NULL OR (ends_at > $4 AND revoked_at IS NULL))
         ORDER BY starts_at DESC, created_at DESC LIMIT $5`,
        [
          filter.targetId ?? null,
          filter.principalId ?? null,
          filter.activeAt ?? null,
          filter.liveAt ?? null,
          filter.limit,
        ],
      );
      return rows.map(toPreApproval);
    },
  };
}
