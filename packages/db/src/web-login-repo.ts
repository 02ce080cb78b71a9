import type { SqlExecutor } from "./database.js";

/** A console sign-in begun at /auth/login and not yet back at /auth/callback. */
export type WebLogin = {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly returnTo: string;
  /** A step-up's max_age (seconds), checked against the ID token's auth_time. */
  readonly maxAge: number | null;
  readonly acr: string | null;
  readonly expiresAt: Date;
};

type WebLoginRow = {
  state: string;
  nonce: string;
  code_verifier: string;
  return_to: string;
  max_age: number | null;
  acr: string | null;
  expires_at: Date;
};

/** Expired sign-ins each new one deletes besides adding itself: more than one, so the table shrinks. */
const SWEEP_BATCH = 10;

export type WebLoginRepo = ReturnType<typeof webLoginRepo>;

/** Sign-ins in flight (migration 0013), by the SHA-256 of the browser's handle. */
export function webLoginRepo(sql: SqlExecutor) {
  return {
    async insert(handleHash: Buffer, login: WebLogin, now: Date): Promise<void> {
      await sql.query(
        `WITH swept AS (
           DELETE FROM web_logins WHERE handle_hash IN (
             SELECT handle_hash FROM web_logins WHERE expires_at <= $9
             ORDER BY expires_at LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED))
         INSERT INTO web_logins (handle_hash, state, nonce, code_verifier, return_to, max_age, acr, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          handleHash,
          login.state,
          login.nonce,
          login.codeVerifier,
          login.returnTo,
          login.maxAge,
          login.acr,
          login.expiresAt,
          now,
        ],
      );
    },

    /** The sign-in of this handle, deleted so that no replica can take it again; nothing when expired. */
    async take(handleHash: Buffer, now: Date): Promise<WebLogin | undefined> {
      const [row] = await sql.query<WebLoginRow>(
        `DELETE FROM web_logins WHERE handle_hash = $1
         RETURNING state, nonce, code_verifier, return_to, max_age, acr, expires_at`,
        [handleHash],
      );
      if (!row || row.expires_at.getTime() <= now.getTime()) return undefined;
      return {
        state: row.state,
        nonce: row.nonce,
        codeVerifier: row.code_verifier,
        returnTo: row.return_to,
        maxAge: row.max_age,
        acr: row.acr,
        expiresAt: row.expires_at,
      };
    },
  };
}
