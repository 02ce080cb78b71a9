import type { Principal } from "@leasehold/domain";
import type { SqlExecutor } from "./database.js";

/** A console sign-in session as stored: hashes only, never the cookie's id or the CSRF token. */
export type WebSession = {
  /** The public handle (admins list and revoke by it); never the cookie's value. */
  readonly id: string;
  readonly principal: Principal;
  readonly csrfHash: Buffer;
  readonly authTime: Date | null;
  readonly acr: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly lastSeenAt: Date;
};

/** What starting a session writes. */
export type NewWebSession = Omit<WebSession, "lastSeenAt"> & { readonly idHash: Buffer };

type WebSessionRow = {
  id: string;
  principal: Principal;
  csrf_hash: Buffer;
  auth_time: Date | null;
  acr: string | null;
  created_at: Date;
  expires_at: Date;
  last_seen_at: Date;
};

const toWebSession = (row: WebSessionRow): WebSession => ({
  id: row.id,
  principal: row.principal,
  csrfHash: row.csrf_hash,
  authTime: row.auth_time,
  acr: row.acr,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  lastSeenAt: row.last_seen_at,
});

/** A session just ended: its public id and whose it was. */
export type EndedWebSession = { readonly id: string; readonly principalId: string };
type EndedRow = { id: string; principal_id: string };

const COLUMNS = "id, principal, csrf_hash, auth_time, acr, created_at, expires_at, last_seen_at";

export type WebSessionRepo = ReturnType<typeof webSessionRepo>;

/**
 * Console sessions (migration 0013). "Open" means not ended and not expired at the instant asked
 * about; an ended or expired session is never found again, whatever its cookie says.
 */
export function webSessionRepo(sql: SqlExecutor) {
  return {
    async insert(s: NewWebSession): Promise<void> {
      await sql.query(
        `INSERT INTO web_sessions (id_hash, id, principal, csrf_hash, auth_time, acr, created_at,
           expires_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7)`,
        [
          s.idHash,
          s.id,
          JSON.stringify(s.principal),
          s.csrfHash,
          s.authTime,
          s.acr,
          s.createdAt,
          s.expiresAt,
        ],
      );
    },

    /** The open session whose cookie id hashes to `idHash`, or nothing. */
    async findOpen(idHash: Buffer, now: Date): Promise<WebSession | undefined> {
      const [row] = await sql.query<WebSessionRow>(
        `SELECT ${COLUMNS} FROM web_sessions
         WHERE id_hash = $1 AND ended_at IS NULL AND expires_at > $2`,
        [idHash, now],
      );
      return row && toWebSession(row);
    },

    /** Records activity, at most once per `everyMs`: a busy console does not write on every call. */
    async touch(idHash: Buffer, now: Date, everyMs: number): Promise<void> {
      await sql.query(
        `UPDATE web_sessions SET last_seen_at = $2
         WHERE id_hash = $1 AND ended_at IS NULL
           AND last_seen_at <= $2::timestamptz - $3::float8 * interval '1 millisecond'`,
        [idHash, now, everyMs],
      );
    },

    /** Ends the open session of this cookie (sign-out); what it was, or nothing when there was none. */
    async endByHash(idHash: Buffer, now: Date, endedBy: string): Promise<EndedWebSession | undefined> {
      const [row] = await sql.query<EndedRow>(
        `UPDATE web_sessions SET ended_at = $2, ended_by = $3
         WHERE id_hash = $1 AND ended_at IS NULL RETURNING id, principal->>'id' AS principal_id`,
        [idHash, now, endedBy],
      );
      return row && { id: row.id, principalId: row.principal_id };
    },

    /** Ends the open session with this public id (an admin's revocation); nothing when there was none. */
    async endById(id: string, now: Date, endedBy: string): Promise<EndedWebSession | undefined> {
      const [row] = await sql.query<EndedRow>(
        `UPDATE web_sessions SET ended_at = $2, ended_by = $3
         WHERE id = $1 AND ended_at IS NULL AND expires_at > $2
         RETURNING id, principal->>'id' AS principal_id`,
        [id, now, endedBy],
      );
      return row && { id: row.id, principalId: row.principal_id };
    },

    /** Open sessions, newest first. */
    async listOpen(now: Date, limit: number): Promise<WebSession[]> {
      const rows = await sql.query<WebSessionRow>(
        `SELECT ${COLUMNS} FROM web_sessions
         WHERE ended_at IS NULL AND expires_at > $1 ORDER BY created_at DESC LIMIT $2`,
        [now, limit],
      );
      return rows.map(toWebSession);
    },
  };
}
