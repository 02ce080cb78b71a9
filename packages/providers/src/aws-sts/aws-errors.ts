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
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
]);

type AwsError = Error & { $metadata?: { httpStatusCode?: number }; $retryable?: unknown; code?: string };

/** Errors raised before a request's first byte left this host: such a try cannot have reached AWS. */
const NEVER_CONNECTED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);

const codeOf = (error: unknown) => {
  const aws = error as AwsError;
  return aws?.name && aws.name !== "Error" ? aws.name : (aws?.code ?? "UnknownError");
};

/**
 * Watches every try the SDK makes of one command (it retries inside `send`, so the final error alone
 * cannot tell). `mayHaveReached()` stays false only while every try so far failed to connect: then
 * AWS never saw the request and cannot have acted on it.
 */
export function watchTries(command: {
  middlewareStack: {
    add(
      middleware: (next: (args: never) => Promise<unknown>) => (args: never) => Promise<unknown>,
      options: { step: "deserialize"; name: string },
    ): void;
  };
}): { mayHaveReached(): boolean } {
  let reached = false;
  command.middlewareStack.add(
    (next) => async (args) => {
      try {
        const output = await next(args);
        reached = true;
        return output;
      } catch (error) {
        if (!NEVER_CONNECTED.has(codeOf(error))) reached = true;
        throw error;
      }
    },
    { step: "deserialize", name: "leaseholdWatchTries" },
  );
  return { mayHaveReached: () => reached };
}

/**
 * Turns an AWS SDK error into an UpstreamError that says what failed and whether to retry. AWS error
 * messages describe parameters, never credentials, so they are kept (shortened).
 */
export function toAwsError(
  error: unknown,
  what: string,
  tries?: { mayHaveReached(): boolean },
): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const aws = error as AwsError;
  const code = codeOf(error);
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
    // Unknown unless the caller watched every try.
    mayHaveReached: tries?.mayHaveReached() ?? true,
    cause: error,
  });
}
