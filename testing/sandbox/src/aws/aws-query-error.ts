/**
 * An error the AWS stand-in answers with, in the shape of the query protocol's `<ErrorResponse>`.
 * `code` is what the SDK turns into the thrown error's `name`; `status` is the HTTP status the real
 * service uses for it.
 */
export class AwsQueryError extends Error {
  override readonly name = "AwsQueryError";

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A 400 `ValidationError` listing every broken constraint the way AWS does:
 * "2 validation errors detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: …; …".
 */
export function validationError(problems: readonly string[]): AwsQueryError {
  const count = problems.length;
  const noun = count === 1 ? "validation error" : "validation errors";
  return new AwsQueryError(400, "ValidationError", `${count} ${noun} detected: ${problems.join("; ")}`);
}

/** The clause AWS writes for one broken constraint of one member. */
export function constraintProblem(value: string | null, member: string, constraint: string): string {
  const shown = value === null ? "null" : `'${value}'`;
  return `Value ${shown} at '${member}' failed to satisfy constraint: ${constraint}`;
}
