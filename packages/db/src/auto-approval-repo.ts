import type { OnCallBinding } from "@leasehold/domain";
import type { SqlExecutor } from "./database.js";

/** A live grant that rests on incidents: it ends when none of them is open any more. */
export type IncidentBoundGrant = {
  readonly grantId: string;
  readonly binding: OnCallBinding;
  readonly incidentIds: readonly string[];
};

export type AutoApprovalRepo = ReturnType<typeof autoApprovalRepo>;

/** What approval by policy leaves behind: which policies approved a request, and the incidents a grant rests on. */
export function autoApprovalRepo(sql: SqlExecutor) {
  return {
    async markApprovedByPolicy(requestId: string, policies: readonly string[]): Promise<void> {
      await sql.query("UPDATE access_requests SET approved_by_policy = $2 WHERE id = $1", [
        requestId,
        [...policies],
      ]);
    },

    /** Requests of this requester for this target approved by policy since `since`: autoApprove.maxPerDay. */
    async countApprovedByPolicy(requesterId: string, targetId: string, since: Date): Promise<number> {
      const rows = await sql.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM access_requests
          WHERE requester_id = $1 AND target_id = $2 AND approved_by_policy IS NOT NULL AND created_at > $3`,
        [requesterId, targetId, since],
      );
      return rows[0]?.count ?? 0;
    },

    async bindIncidents(grantId: string, binding: OnCallBinding, incidentIds: readonly string[], at: Date) {
      for (const incidentId of incidentIds) {
        await sql.query(
          `INSERT INTO grant_incidents (grant_id, provider, service, incident_id, created_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
          [grantId, binding.provider, binding.service, incidentId, at],
        );
      }
    },

    /** The issuing or active grants resting on this incident (a webhook said it resolved). */
    async grantsOnIncident(provider: OnCallBinding["provider"], incidentId: string): Promise<string[]> {
      const rows = await sql.query<{ grant_id: string }>(
        `SELECT i.grant_id FROM grant_incidents i JOIN grants g ON g.id = i.grant_id
          WHERE i.provider = $1 AND i.incident_id = $2 AND g.state IN ('issuing', 'active')`,
        [provider, incidentId],
      );
      return rows.map((row) => row.grant_id);
    },

    /** Issuing or active grants resting on incidents, oldest first. */
    async listIncidentBound(limit: number): Promise<IncidentBoundGrant[]> {
      const rows = await sql.query<{
        grant_id: string;
        provider: OnCallBinding["provider"];
        service: string;
        incidents: string[];
      }>(
        `SELECT i.grant_id, i.provider, i.service, array_agg(i.incident_id ORDER BY i.incident_id) AS incidents
           FROM grant_incidents i JOIN grants g ON g.id = i.grant_id
          WHERE g.state IN ('issuing', 'active')
          GROUP BY i.grant_id, i.provider, i.service, g.created_at
          ORDER BY g.created_at
          LIMIT $1`,
        [limit],
      );
      return rows.map((row) => ({
        grantId: row.grant_id,
        binding: { provider: row.provider, service: row.service, schedules: [] },
        incidentIds: row.incidents,
      }));
    },
  };
}
