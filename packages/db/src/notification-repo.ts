import type { SqlExecutor } from "./database.js";

export type SlackRequestMessage = {
  readonly requestId: string;
  readonly channel: string;
  readonly ts: string;
};

/** A request re-posted to an escalation level's channel. */
export type SlackEscalationMessage = SlackRequestMessage & { readonly level: number };

export type NotificationRepo = ReturnType<typeof notificationRepo>;

/** What the notifier remembers: where each request's Slack message is, and how far it has read the audit trail. */
export function notificationRepo(sql: SqlExecutor) {
  return {
    async findRequestMessage(requestId: string): Promise<SlackRequestMessage | undefined> {
      const [row] = await sql.query<{ channel: string; ts: string }>(
        "SELECT channel, ts FROM slack_request_messages WHERE request_id = $1",
        [requestId],
      );
      return row && { requestId, channel: row.channel, ts: row.ts };
    },

    /** Remembers the message; returns false if the request already has one (the first one stays). */
    async saveRequestMessage(message: SlackRequestMessage, at: Date): Promise<boolean> {
      const rows = await sql.query(
        `INSERT INTO slack_request_messages (request_id, channel, ts, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (request_id) DO NOTHING RETURNING request_id`,
        [message.requestId, message.channel, message.ts, at],
      );
      return rows.length === 1;
    },

    /** The request's escalation posts, lowest level first. */
    async listEscalationMessages(requestId: string): Promise<SlackEscalationMessage[]> {
      const rows = await sql.query<{ level: number; channel: string; ts: string }>(
        "SELECT level, channel, ts FROM slack_escalation_messages WHERE request_id = $1 ORDER BY level",
        [requestId],
      );
      return rows.map((row) => ({ requestId, level: row.level, channel: row.channel, ts: row.ts }));
    },

    /** Remembers an escalation post; returns false if that level already has one (the first one stays). */
    async saveEscalationMessage(message: SlackEscalationMessage, at: Date): Promise<boolean> {
      const rows = await sql.query(
        `INSERT INTO slack_escalation_messages (request_id, level, channel, ts, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (request_id, level) DO NOTHING RETURNING request_id`,
        [message.requestId, message.level, message.channel, message.ts, at],
      );
      return rows.length === 1;
    },

    async cursor(name: string): Promise<number> {
      const [row] = await sql.query<{ seq: string | number }>(
        "SELECT seq FROM audit_cursors WHERE name = $1",
        [name],
      );
      return Number(row?.seq ?? 0);
    },

    /** Moves the cursor forward only (a slower reader never moves it back). */
    async advanceCursor(name: string, seq: number): Promise<void> {
      await sql.query(
        `INSERT INTO audit_cursors (name, seq) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET seq = GREATEST(audit_cursors.seq, EXCLUDED.seq)`,
        [name, seq],
      );
    },
  };
}
