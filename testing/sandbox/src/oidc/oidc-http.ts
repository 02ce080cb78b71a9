import type { IncomingMessage, ServerResponse } from "node:http";
import { BodyTooLargeError, readBody } from "../http/http-server.js";

/** Largest form body accepted; real OPs bound this too, and nothing legitimate comes close. */
export const MAX_FORM_BYTES = 16 * 1024;

/** A parsed form or query: each parameter at most once (RFC 6749 §3.1), or the reason it is refused. */
export type Params = { ok: true; get: (name: string) => string | undefined } | { ok: false; reason: string };

/** Longest value of any single parameter; longer means a broken or hostile client. */
const MAX_PARAM_CHARS = 4_096;

export function parseParams(search: URLSearchParams): Params {
  const values = new Map<string, string>();
  for (const [name, value] of search) {
    if (values.has(name)) return { ok: false, reason: `parameter ${name.slice(0, 40)} is repeated` };
    if (value.length > MAX_PARAM_CHARS)
      return { ok: false, reason: `parameter ${name.slice(0, 40)} is too long` };
    values.set(name, value);
  }
  return { ok: true, get: (name) => (values.get(name) === "" ? undefined : values.get(name)) };
}

/** The urlencoded body of a POST, bounded; other content types are refused. */
export async function readForm(req: IncomingMessage): Promise<Params> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded")
    return { ok: false, reason: "the body must be application/x-www-form-urlencoded" };
  try {
    const body = await readBody(req, MAX_FORM_BYTES);
    return parseParams(new URLSearchParams(body.toString("utf8")));
  } catch (error) {
    if (error instanceof BodyTooLargeError) return { ok: false, reason: "the body is too large" };
    throw error;
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    Pragma: "no-cache",
    ...headers,
  });
  res.end(JSON.stringify(body));
}

/** An RFC 6749 §5.2 error; `error_description` is fixed text, never an echoed secret. */
export function sendOAuthError(res: ServerResponse, error: string, description: string, status = 400) {
  const headers: Record<string, string> =
    status === 401 ? { "WWW-Authenticate": 'Basic realm="leasehold-oidc-stand-in"' } : {};
  sendJson(res, status, { error, error_description: description }, headers);
}

/**
 * HTML with a CSP that allows no script and no inline style; `formTargets` are origins a form on the
 * page may end up at (browsers apply form-action to the redirect after a POST).
 */
export function sendHtml(res: ServerResponse, status: number, html: string, formTargets: string[] = []) {
  const formAction = ["'self'", ...formTargets].join(" ");
  res.writeHead(status, {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": `default-src 'none'; form-action ${formAction}; base-uri 'none'; frame-ancestors 'none'`,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
  });
  res.end(html);
}

/** 303 so the browser follows with a GET whatever the original method. */
export function redirect(res: ServerResponse, location: string) {
  res.writeHead(303, { Location: location, "Cache-Control": "no-store" });
  res.end();
}
