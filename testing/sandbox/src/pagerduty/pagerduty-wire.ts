import { createHash, timingSafeEqual } from "node:crypto";

/**
 * PagerDuty REST API v2 on the wire: authentication, the version header, the error body, classic offset
 * paging and references (contracts wave2 §7).
 */

/** An answer other than 200; `body` undefined = no body at all (a bare 429). */
export class PagerDutyRefusal extends Error {
  override readonly name = "PagerDutyRefusal";
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown> | undefined,
    readonly headers: Record<string, string> = {},
  ) {
    super(`PagerDuty refusal ${status}`);
  }
}

/** `{"error":{"message","code","errors"?}}`, PagerDuty's error body. */
export const pdError = (status: number, code: number, message: string, errors?: readonly string[]) =>
  new PagerDutyRefusal(status, { error: { message, code, ...(errors === undefined ? {} : { errors }) } });

export const invalidInput = (detail: string) => pdError(400, 2001, "Invalid Input Provided", [detail]);
export const notFound = () => pdError(404, 2100, "Not Found");

const sameSecret = (a: string, b: string): boolean =>
  timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());

/** `Token token=<key>` must be the account key; `Bearer <token>` one of the OAuth tokens. Else 401. */
export function authenticate(
  authorization: string | undefined,
  token: string,
  bearerTokens: readonly string[],
): void {
  const value = authorization ?? "";
  const apiKey = /^Token token=(\S+)$/.exec(value)?.[1];
  const bearer = /^Bearer (\S+)$/.exec(value)?.[1];
  let ok = false;
  if (apiKey !== undefined) ok = sameSecret(apiKey, token);
  else if (bearer !== undefined)
    for (const candidate of bearerTokens) ok = sameSecret(bearer, candidate) || ok;
  if (!ok) throw pdError(401, 2006, "Authentication failed");
}

/**
 * The Accept header, when it names a PagerDuty version, must name 2; when `required`, it must be there.
 * What PagerDuty answers to another version is not documented: 400 here.
 */
export function checkVersionHeader(accept: string | undefined, required: boolean): void {
  const media = (accept ?? "")
    .split(",")
    .map((part) => part.trim().toLowerCase())
    .find((part) => part.startsWith("application/vnd.pagerduty+json"));
  if (media === undefined) {
    if (required) throw invalidInput("Accept: application/vnd.pagerduty+json;version=2 is required");
    return;
  }
  const version = /;\s*version=(\w+)/.exec(media)?.[1];
  if (version !== "2") throw invalidInput("Only API version 2 is served (Accept: ...;version=2)");
}

/** Query parameters, repeated keys kept, as PagerDuty's `name[]=a&name[]=b` arrays need. */
export type Query = URLSearchParams;

/** All values of an array parameter (`name[]`), or undefined when the filter is absent. */
export function arrayParam(query: Query, name: string): string[] | undefined {
  const values = query.getAll(`${name}[]`);
  return values.length === 0 ? undefined : values;
}

export function booleanParam(query: Query, name: string): boolean {
  const value = query.get(name);
  if (value === null) return false;
  if (value === "true") return true;
  if (value === "false") return false;
  throw invalidInput(`${name} must be true or false`);
}

export function dateParam(query: Query, name: string): Date | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  const date = new Date(value);
  if (value === "" || Number.isNaN(date.getTime())) throw invalidInput(`${name} is not a valid date`);
  return date;
}

export type Page = { limit: number; offset: number; total: boolean };

/**
 * Classic paging: `limit` default 25, capped at 100; `offset` default 0; `offset + limit` above 10,000 is
 * refused, as PagerDuty does, so clients must narrow their filters.
 */
export function pageParams(query: Query): Page {
  const number = (name: string, fallback: number): number => {
    const raw = query.get(name);
    if (raw === null) return fallback;
    if (!/^\d{1,9}$/.test(raw)) throw invalidInput(`${name} must be a non-negative integer`);
    return Number(raw);
  };
  const limit = Math.min(Math.max(number("limit", 25), 1), 100);
  const offset = number("offset", 0);
  if (offset + limit > 10_000) {
    throw invalidInput("Offset + limit must not exceed 10000; narrow the query with filters");
  }
  return { limit, offset, total: booleanParam(query, "total") };
}

/** One page of `items` under `key`, with `limit`, `offset`, `more` and `total` (null unless asked). */
export function paged<T>(key: string, items: readonly T[], page: Page): Record<string, unknown> {
  return {
    [key]: items.slice(page.offset, page.offset + page.limit),
    limit: page.limit,
    offset: page.offset,
    more: page.offset + page.limit < items.length,
    total: page.total ? items.length : null,
  };
}

export type ReferenceType = "user" | "service" | "escalation_policy" | "schedule";

const COLLECTION: Record<ReferenceType, string> = {
  user: "users",
  service: "services",
  escalation_policy: "escalation_policies",
  schedule: "schedules",
};

/** A `*_reference` object: id, type, summary, self and html_url. */
export function reference(apiUrl: string, type: ReferenceType, id: string, summary: string) {
  return {
    id,
    type: `${type}_reference`,
    summary,
    self: `${apiUrl}/${COLLECTION[type]}/${id}`,
    html_url: `https://sandbox.pagerduty.com/${COLLECTION[type]}/${id}`,
  };
}
