import { UpstreamError } from "@leasehold/domain";

type VaultHttpError = Error & {
  response?: { statusCode?: number; body?: { errors?: unknown } };
  code?: string;
};

/** Vault's HTTP status, when the error came from Vault rather than the network. */
export const vaultStatus = (error: unknown): number | undefined =>
  (error as VaultHttpError)?.response?.statusCode;

/**
 * Turns a node-vault error into an UpstreamError, as Vault's API documents its statuses: 429 (rate
 * limited, or a standby), 500/502/503 (sealed, standby, unavailable) and network errors are worth
 * retrying; 400 and 403 (permission denied) are not. Vault's error strings describe the request, never
 * the secret, so the first one is kept (shortened).
 */
export function toVaultError(error: unknown, what: string): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const status = vaultStatus(error);
  const errors = (error as VaultHttpError)?.response?.body?.errors;
  const detail = Array.isArray(errors) && typeof errors[0] === "string" ? errors[0].slice(0, 200) : "";
  const retryable = status === undefined || status === 429 || status >= 500;
  const reason =
    status === undefined
      ? `Vault could not be reached (${(error as VaultHttpError)?.code ?? "network error"})`
      : status === 503
        ? "Vault is sealed or unavailable (503)"
        : status === 403
          ? "Vault refused: permission denied (403)"
          : `Vault answered ${status}${detail ? `: ${detail}` : ""}`;
  return new UpstreamError(`${what} failed: ${reason}`, {
    retryable,
    upstreamCode: status === undefined ? "network" : String(status),
    cause: error,
  });
}
