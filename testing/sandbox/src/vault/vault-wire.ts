import { randomInt, randomUUID } from "node:crypto";

/** Vault's HTTP conventions shared by the stand-in's modules: envelopes, errors, durations, ids. */

/** A refusal answered as `{"errors": [...]}` with `status`. */
export class VaultHttpError extends Error {
  override readonly name = "VaultHttpError";
  constructor(
    readonly status: number,
    readonly errors: readonly string[],
  ) {
    super(errors.join("; ") || `HTTP ${status}`);
  }
}

/**
 * How Vault prints an error list built with go-multierror (most request errors pass through one):
 * "1 error occurred:\n\t* permission denied\n\n".
 */
export const multiError = (...messages: readonly string[]): string =>
  messages.length === 1
    ? `1 error occurred:\n\t* ${messages[0] ?? ""}\n\n`
    : `${messages.length} errors occurred:\n\t${messages.map((message) => `* ${message}`).join("\n\t")}\n\n`;

/** The error strings Vault answers with, in one place. */
export const VAULT_ERRORS = {
  /** 403: a known token whose policies do not allow the request. */
  policyDenied: multiError("permission denied"),
  /** 403: a token that is unknown, revoked or past its TTL (current Vault adds "invalid token", see its token docs). */
  invalidToken: multiError("permission denied", "invalid token"),
  /** 400: no X-Vault-Token on an authenticated path. */
  missingToken: "missing client token",
  /** 503 while sealed or not initialised. */
  sealed: "Vault is sealed",
  /** 400 from auth/approle/login. */
  invalidAppRole: "invalid role or secret ID",
  /** 400 from KV v2 writes with a stale `options.cas`. */
  casMismatch: "check-and-set parameter did not match the current version",
  /** 404 for a path under a mount that the engine does not serve. */
  unsupportedPath: multiError("unsupported path"),
  /** 405 for a method the path does not take. */
  unsupportedOperation: multiError("unsupported operation"),
} as const;

/** Vault's response body for a successful request. */
export type VaultEnvelope = {
  request_id: string;
  lease_id: string;
  renewable: boolean;
  lease_duration: number;
  data: unknown;
  /** Always null: the stand-in does not wrap responses. */
  wrap_info: null;
  warnings: readonly string[] | null;
  auth: unknown;
};

export const envelope = (parts: Partial<Omit<VaultEnvelope, "request_id" | "wrap_info">>): VaultEnvelope => ({
  request_id: randomUUID(),
  lease_id: parts.lease_id ?? "",
  renewable: parts.renewable ?? false,
  lease_duration: parts.lease_duration ?? 0,
  data: parts.data ?? null,
  wrap_info: null,
  warnings:
    parts.warnings !== undefined && parts.warnings !== null && parts.warnings.length > 0
      ? parts.warnings
      : null,
  auth: parts.auth ?? null,
});

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Random [0-9A-Za-z] characters, as Vault's base62 ids (lease ids, accessors, `random` in username templates). */
export function randomBase62(length: number): string {
  let out = "";
  for (let index = 0; index < length; index += 1) out += BASE62.charAt(randomInt(BASE62.length));
  return out;
}

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
};

/**
 * Vault's `ParseDurationSecond`: a number of seconds, a numeric string, or a Go duration ("1h30m", "90s",
 * Vault also takes "d"). Whole seconds, rounded down. Throws a 400 for anything else.
 */
export function parseDurationSeconds(value: unknown, field: string): number {
  if (typeof value === "number" && Number.isFinite(value)) return Math.floor(value);
  if (typeof value === "string") {
    const text = value.trim();
    if (/^-?\d+$/.test(text)) return Number(text);
    const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/g)];
    if (text !== "" && parts.map((part) => part[0]).join("") === text) {
      const seconds = parts.reduce(
        (sum, part) => sum + Number(part[1]) * (UNIT_SECONDS[part[2] ?? ""] ?? 0),
        0,
      );
      return Math.floor(seconds);
    }
  }
  throw new VaultHttpError(400, [`error parsing ${field}: invalid duration ${JSON.stringify(value)}`]);
}

/** Go's `time.Duration.String()` for whole seconds, as Vault prints TTLs in warnings: "1h0m0s", "2m5s", "7s". */
export function goDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours > 0) return `${hours}h${minutes}m${rest}s`;
  if (minutes > 0) return `${minutes}m${rest}s`;
  return `${rest}s`;
}

/** Vault's system default and maximum TTL (768 h), for tokens without an explicit TTL. */
export const SYSTEM_MAX_TTL_SECONDS = 768 * 3600;

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Every string inside a JSON-like value, depth first. */
export function stringLeaves(value: unknown, into: string[] = []): string[] {
  if (typeof value === "string") into.push(value);
  else if (Array.isArray(value)) for (const item of value) stringLeaves(item, into);
  else if (isRecord(value)) for (const item of Object.values(value)) stringLeaves(item, into);
  return into;
}
