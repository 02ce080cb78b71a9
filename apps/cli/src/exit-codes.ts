/**
 * Exit codes scripts can rely on. `exec` exits with its child's code instead.
 */
export const EXIT = {
  ok: 0,
  /** Something unexpected; the message says what. */
  failure: 1,
  /**
   * The command line was wrong: unknown command, missing or bad argument; also `login` against a server
   * with no sign-in configured (use --token-file).
   */
  usage: 2,
  /**
   * Not logged in, the token was refused, or the sign-in expired and could not be refreshed: run
   * `leasehold login`. `login` exits with it too when its code expired before it was approved, or the
   * sign-in was denied at the identity provider.
   */
  unauthenticated: 3,
  /** Logged in but not allowed. */
  forbidden: 4,
  notFound: 5,
  /** The thing is not in a state that allows this (already decided, already ended, …). */
  conflict: 6,
  /** Leasehold, the identity provider, or a backend behind Leasehold is unreachable or failing: try again later. */
  unavailable: 7,
  /** `request --wait` ended without access: denied, cancelled, expired or failed. */
  noAccess: 8,
  /**
   * leasehold.yaml, a policy file or a policy cases file is not valid (sysexits' EX_CONFIG, as the
   * apps exit on a bad configuration).
   */
  config: 78,
} as const;

/** A failure the CLI explains and exits with. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The exit code for a tRPC error code. */
export function exitCodeFor(trpcCode: string | undefined): number {
  switch (trpcCode) {
    case "BAD_REQUEST":
      return EXIT.usage;
    case "UNAUTHORIZED":
      return EXIT.unauthenticated;
    case "FORBIDDEN":
      return EXIT.forbidden;
    case "NOT_FOUND":
      return EXIT.notFound;
    case "CONFLICT":
      return EXIT.conflict;
    case "BAD_GATEWAY":
    case "SERVICE_UNAVAILABLE":
    case "TIMEOUT":
      return EXIT.unavailable;
    default:
      return EXIT.failure;
  }
}
