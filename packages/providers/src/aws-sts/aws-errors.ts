import { UpstreamError } from "@leasehold/domain";

/** Error codes that trying again can fix. Everything else is the request being refused. */
const RETRYABLE_CODES = new Set([
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "ServiceUnavailable",
  "InternalFailure",
  "InternalError",
  "ServiceFailure",
  "IDPCommunicationError",
  "TimeoutError",
  "RequestTimeout",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
]);

type AwsError = Error & { $metadata?: { httpStatusCode?: number }; $retryable?: unknown; code?: string };

/**
 * Turns an AWS SDK error into an UpstreamError that says what failed and whether to retry. AWS error
 * messages describe parameters, never credentials, so they are kept (shortened).
 */
export function toAwsError(error: unknown, what: string): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const aws = error as AwsError;
  const code = aws?.name && aws.name !== "Error" ? aws.name : (aws?.code ?? "UnknownError");
  const status = aws?.$metadata?.httpStatusCode;
  const retryable =
    RETRYABLE_CODES.has(code) ||
    aws?.$retryable !== undefined ||
    status === undefined ||
    status >= 500 ||
    status === 429;
  const detail = typeof aws?.message === "string" ? aws.message.slice(0, 300) : "";
  return new UpstreamError(`${what} failed: ${code}${detail ? ` (${detail})` : ""}`, {
    retryable,
    upstreamCode: code,
    cause: error,
  });
}
