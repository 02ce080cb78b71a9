import { randomBytes } from "node:crypto";

/** A sign-in begun at /auth/login and not yet back at /auth/callback. */
export type PendingLogin = {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly returnTo: string;
  /** The step-up's max_age, checked against the ID token's auth_time at the callback. */
  readonly maxAge: number | undefined;
  readonly acr: string | undefined;
  readonly expiresAt: number;
};

/** How long a person may take at the identity provider's sign-in page. */
export const PENDING_LOGIN_TTL_MS = 10 * 60_000;
/** Sign-ins in flight kept at once; the oldest is dropped first (a flood cannot grow memory). */
const MAX_PENDING = 1_000;

/**
 * Sign-ins in flight, in this process's memory, keyed by a random handle the browser holds in the
 * `leasehold-login` cookie: the verifier and nonce never leave the server. Each is taken once.
 * (With several API replicas the callback must reach the replica that began the sign-in.)
 */
export function createPendingLogins(now: () => number = Date.now) {
  const pending = new Map<string, PendingLogin>();
  return {
    add(login: Omit<PendingLogin, "expiresAt">): string {
      const handle = randomBytes(32).toString("base64url");
      for (const [key, value] of pending) {
        if (value.expiresAt <= now() || pending.size >= MAX_PENDING) pending.delete(key);
        else break;
      }
      pending.set(handle, { ...login, expiresAt: now() + PENDING_LOGIN_TTL_MS });
      return handle;
    },
    /** The sign-in this handle began, removed so that it cannot be used twice; nothing when expired. */
    take(handle: string | undefined): PendingLogin | undefined {
      if (handle === undefined || handle.length > 64) return undefined;
      const login = pending.get(handle);
      pending.delete(handle);
      return login && login.expiresAt > now() ? login : undefined;
    },
  };
}

export type PendingLogins = ReturnType<typeof createPendingLogins>;
