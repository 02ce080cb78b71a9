import { randomBytes } from "node:crypto";
import type { WebLogin } from "@leasehold/db";
import type { SessionPort } from "./session-auth.js";
import { sha256 } from "./session-secrets.js";

/** A sign-in begun at /auth/login and not yet back at /auth/callback. */
export type PendingLogin = Omit<WebLogin, "expiresAt">;

/** How long a person may take at the identity provider's sign-in page. */
export const PENDING_LOGIN_TTL_MS = 10 * 60_000;

/** The handle's shape: 32 random bytes, base64url. */
const HANDLE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Sign-ins in flight, kept in the database (any API replica may get the callback), keyed by the
 * SHA-256 of a random handle the browser holds in the `leasehold-login` cookie: the verifier and
 * nonce never leave the server. Each is taken once.
 */
export function createPendingLogins(sessions: Pick<SessionPort, "holdLogin" | "takeLogin">, now: () => Date) {
  return {
    async add(login: PendingLogin): Promise<string> {
      const handle = randomBytes(32).toString("base64url");
      const expiresAt = new Date(now().getTime() + PENDING_LOGIN_TTL_MS);
      await sessions.holdLogin(sha256(handle), { ...login, expiresAt });
      return handle;
    },
    /** The sign-in this handle began, removed so that it cannot be used twice; nothing when expired. */
    async take(handle: string | undefined): Promise<PendingLogin | undefined> {
      if (handle === undefined || !HANDLE.test(handle)) return undefined;
      return sessions.takeLogin(sha256(handle));
    },
  };
}

export type PendingLogins = ReturnType<typeof createPendingLogins>;
