import type { SqlExecutor } from "./database.js";

export type SlackRequestMessage = {
  readonly requestId: string;
  readonly channel: string;
  readonly ts: string;
};

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
