/**
 * The console's two plain HTTP calls (everything else goes through tRPC): who is signed in, and signing out.
 */
export type Session = {
  readonly principal: {
    readonly id: string;
    readonly kind: string;
    readonly provider: string;
    readonly groups: readonly string[];
  };
  readonly csrfToken: string;
  readonly authTime: string | null;
  readonly acr: string | null;
  readonly expiresAt: string;
};

export type SessionState =
  | { readonly status: "signed-in"; readonly session: Session }
  | { readonly status: "signed-out"; readonly reason: string }
  | { readonly status: "error"; readonly message: string };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null;

/** Reads a `GET /auth/session` body; anything that is not a session is treated as not signed in. */
export function parseSession(body: unknown): Session | null {
  if (!isObject(body) || !isObject(body.principal) || typeof body.csrfToken !== "string") return null;
  const p = body.principal;
  if (typeof p.id !== "string" || typeof p.kind !== "string" || typeof p.provider !== "string") return null;
  const groups = Array.isArray(p.groups) ? p.groups.filter((g): g is string => typeof g === "string") : [];
  const text = (value: unknown) => (typeof value === "string" ? value : null);
  return {
    principal: { id: p.id, kind: p.kind, provider: p.provider, groups },
    csrfToken: body.csrfToken,
    authTime: text(body.authTime),
    acr: text(body.acr),
    expiresAt: text(body.expiresAt) ?? "",
  };
}

export async function fetchSession(): Promise<SessionState> {
  let response: Response;
  try {
    response = await fetch("/auth/session", { credentials: "same-origin", cache: "no-store" });
  } catch {
    return { status: "error", message: "The Leasehold API cannot be reached." };
  }
  const body: unknown = await response.json().catch(() => null);
  if (response.status === 401) {
    const reason = isObject(body) && typeof body.error === "string" ? body.error : "not signed in";
    return { status: "signed-out", reason };
  }
  const session = response.ok ? parseSession(body) : null;
  if (!session) return { status: "error", message: `The API answered ${response.status} for the session.` };
  return { status: "signed-in", session };
}

/**
 * Ends the session (the API requires the CSRF header), then shows the signed-out page: going straight
 * to the identity provider would sign a person on a shared machine back in with one click.
 */
export async function signOut(csrfToken: string): Promise<void> {
  await fetch("/auth/logout", {
    method: "POST",
    credentials: "same-origin",
    headers: { "x-leasehold-csrf": csrfToken },
  }).catch(() => undefined);
  window.location.assign("/");
}
