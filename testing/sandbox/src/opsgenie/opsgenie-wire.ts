import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Opsgenie on the wire (contracts wave2 §8): `GenieKey` authentication, the response envelope
 * (`data`, `took`, `requestId`), error bodies `{"message","took","requestId"}` (some with `code`), and
 * offset paging.
 */

export class OpsgenieRefusal extends Error {
  override readonly name = "OpsgenieRefusal";
  constructor(
    readonly status: number,
    message: string,
    readonly code?: number,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new OpsgenieRefusal(404, what);
/** 422: a semantic error; Opsgenie's exact wording for these parameters is not documented. */
export const unprocessable = (message: string) => new OpsgenieRefusal(422, message);

const sameSecret = (a: string, b: string): boolean =>
  timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());

/** `GenieKey <key>`: the integration key → ok; a key without permission → 403 40301; else 401. */
export function authenticate(
  authorization: string | undefined,
  apiKey: string,
  withoutPermission: readonly string[],
): void {
  const key = /^GenieKey (\S+)$/.exec(authorization ?? "")?.[1];
  if (key === undefined) throw new OpsgenieRefusal(401, "Could not authenticate");
  if (sameSecret(key, apiKey)) return;
  let lacksPermission = false;
  for (const candidate of withoutPermission) lacksPermission = sameSecret(key, candidate) || lacksPermission;
  if (lacksPermission) {
    throw new OpsgenieRefusal(403, "To perform this action, use an API key from an API integration.", 40301);
  }
  throw new OpsgenieRefusal(401, "Could not authenticate");
}

export function booleanParam(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null || value === "false") return false;
  if (value === "true") return true;
  throw unprocessable(`${name} must be true or false`);
}

/**
 * `date` as `yyyy-MM-dd'T'HH:mm:ssZ` (an offset or Z). A `+` left unencoded arrives as a space and is
 * refused, which is the mistake the contract warns about.
 */
export function dateParam(query: URLSearchParams, name: string): Date | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  const shape = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})$/;
  const date = new Date(value.replace(/([+-]\d{2})(\d{2})$/, "$1:$2"));
  if (!shape.test(value) || Number.isNaN(date.getTime())) throw unprocessable(`${name} is not a valid date`);
  return date;
}

/** `offset` (default 0) and `limit` (default 20, 1–100). */
export function pageParams(query: URLSearchParams): { offset: number; limit: number } {
  const number = (name: string, fallback: number): number => {
    const raw = query.get(name);
    if (raw === null) return fallback;
    if (!/^\d{1,9}$/.test(raw)) throw unprocessable(`${name} must be a non-negative integer`);
    return Number(raw);
  };
  const limit = number("limit", 20);
  if (limit < 1 || limit > 100) throw unprocessable("limit must be between 1 and 100");
  return { offset: number("offset", 0), limit };
}
