/**
 * Domain errors. They know nothing about HTTP, Slack or BullMQ: each edge translates them once
 * (tRPC error codes, an ephemeral Slack message, an UnrecoverableError in the worker).
 * Messages are written for the person reading them and must never contain a secret.
 */
export type ErrorCode =
  | "NOT_FOUND"
  | "FORBIDDEN"
  | "CONFLICT"
  | "INVALID_REQUEST"
  | "UNAUTHENTICATED"
  | "UPSTREAM"
  | "LIMIT_EXCEEDED";

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
}

/** The thing asked for does not exist, or the caller may not know that it exists. */
export class NotFoundError extends DomainError {
  override readonly name = "NotFoundError";
  readonly code = "NOT_FOUND";
}

/** The caller is known but not allowed to do this. */
export class ForbiddenError extends DomainError {
  override readonly name = "ForbiddenError";
  readonly code = "FORBIDDEN";
}

/**
 * The caller may do this, but not with the sign-in this call carries: the target asks for a fresh
 * sign-in with the identity provider (its `stepUp`). `targetId` lets an edge send the person to sign
 * in again for that target (the console's `/auth/login?stepUp=<targetId>`).
 */
export class StepUpRequiredError extends DomainError {
  override readonly name = "StepUpRequiredError";
  readonly code = "FORBIDDEN";
  readonly targetId: string;

  constructor(targetId: string, message: string) {
    super(message);
    this.targetId = targetId;
  }
}

/** The action is valid in general but not in the current state (a decided request, an ended grant). */
export class ConflictError extends DomainError {
  override readonly name = "ConflictError";
  readonly code = "CONFLICT";
}

/** The input breaks a rule: out of bounds, wrong shape, refused by policy before any state changed. */
export class InvalidRequestError extends DomainError {
  override readonly name = "InvalidRequestError";
  readonly code = "INVALID_REQUEST";
}

/** The caller could not be authenticated (missing, malformed, expired or untrusted token). */
export class UnauthenticatedError extends DomainError {
  override readonly name = "UnauthenticatedError";
  readonly code = "UNAUTHENTICATED";
}

/**
 * A backend (STS, IAM, Vault, a database) failed. `retryable` says whether trying again later can help
 * (throttling, 5xx, network) or not (the backend refused the request as invalid or forbidden).
 */
export class UpstreamError extends DomainError {
  override readonly name = "UpstreamError";
  readonly code = "UPSTREAM";
  readonly retryable: boolean;
  /** The backend's own error code, such as `ValidationError` or `Throttling`; never a secret. */
  readonly upstreamCode: string | undefined;
  /**
   * False only when the call provably never reached the backend (every try failed to connect), so
   * it cannot have created anything there. True when it may have.
   */
  readonly mayHaveReached: boolean;

  constructor(
    message: string,
    options: {
      retryable: boolean;
      upstreamCode?: string | undefined;
      mayHaveReached?: boolean;
      cause?: unknown;
    },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable;
    this.upstreamCode = options.upstreamCode;
    this.mayHaveReached = options.mayHaveReached ?? true;
  }
}

export const isDomainError = (error: unknown): error is DomainError => error instanceof DomainError;

/**
 * A cap or a rate limit refused the call. `limit` names it as leasehold.yaml does (such as
 * `limits.pendingRequests`); `retryAfterSeconds` says when trying again can succeed (at least 1).
 */
export class LimitExceededError extends DomainError {
  override readonly name = "LimitExceededError";
  readonly code = "LIMIT_EXCEEDED";
  readonly limit: string;
  readonly retryAfterSeconds: number;

  constructor(limit: string, message: string, retryAfterSeconds: number) {
    super(`${message} (limit ${limit}; try again in ${Math.max(1, Math.ceil(retryAfterSeconds))} s)`);
    this.limit = limit;
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}
