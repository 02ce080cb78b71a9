import { isDomainError, UpstreamError } from "@leasehold/domain";

/** Whether trying again later can help: upstream trouble marked retryable, or an unexpected error. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof UpstreamError) return error.retryable;
  return !isDomainError(error);
}

/**
 * A short, secret-free description of a failure for the audit trail and the grant's last error.
 * Domain and upstream errors are written to be safe; anything else is reduced to its class name,
 * because an unexpected error's message could echo anything.
 */
export function describeFailure(error: unknown): string {
  if (isDomainError(error)) return error.message.slice(0, 500);
  if (error instanceof Error) return `unexpected ${error.name}`;
  return "unexpected failure";
}
