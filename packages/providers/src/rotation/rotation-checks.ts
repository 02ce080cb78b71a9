import { isDomainError } from "@leasehold/domain";
import type { RotationCheck } from "./rotated-credential.js";

/**
 * A dry run's failed check. An upstream error's message is scrubbed already (sqlUpstreamError); any
 * other error is named by its class only, since its message could echo anything.
 */
export function failedCheck(check: string, error: unknown): RotationCheck {
  const detail = isDomainError(error) ? error.message : `unexpected ${(error as Error)?.name ?? "failure"}`;
  return { check, ok: false, detail };
}

/** A dry run's check that a login works. */
export async function loginCheck(check: string, login: () => Promise<void>): Promise<RotationCheck> {
  try {
    await login();
    return { check, ok: true, detail: "" };
  } catch (error) {
    return failedCheck(check, error);
  }
}
