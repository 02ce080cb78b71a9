/** The console's client-side routes (History API paths, no hash). */
export type Route =
  | { readonly name: "my-access" }
  | { readonly name: "request" }
  | { readonly name: "approvals"; readonly requestId: string | null }
  | { readonly name: "grant"; readonly grantId: string }
  | { readonly name: "audit" }
  | { readonly name: "admin" }
  | { readonly name: "slack" }
  | { readonly name: "not-found"; readonly path: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const FIXED: Record<string, Route> = {
  "/": { name: "my-access" },
  "/request": { name: "request" },
  "/audit": { name: "audit" },
  "/admin": { name: "admin" },
  "/slack": { name: "slack" },
};

/** The route for a path and query string; ids that are not UUIDs match nothing (they would be refused anyway). */
export function matchRoute(pathname: string, search = ""): Route {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;
  const fixed = FIXED[path];
  if (fixed) return fixed;
  if (path === "/approvals") {
    const requestId = new URLSearchParams(search).get("request");
    return { name: "approvals", requestId: requestId && UUID.test(requestId) ? requestId : null };
  }
  const grant = /^\/grants\/([^/]+)$/.exec(path);
  if (grant?.[1] && UUID.test(grant[1])) return { name: "grant", grantId: grant[1].toLowerCase() };
  return { name: "not-found", path };
}

/** Where the console's own links may go: a relative path on this origin, never `//host` or a scheme. */
export function isLocalPath(target: string): boolean {
  return target.startsWith("/") && !target.startsWith("//") && !target.startsWith("/\\");
}

/** The API's sign-in URL that brings the person back to `returnTo` (and, for step-up, asks for a fresh sign-in). */
export function loginUrl(returnTo: string, stepUpTargetId?: string): string {
  const params = new URLSearchParams();
  if (stepUpTargetId) params.set("stepUp", stepUpTargetId);
  params.set("returnTo", isLocalPath(returnTo) ? returnTo : "/");
  return `/auth/login?${params.toString()}`;
}
