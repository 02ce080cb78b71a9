/**
 * What the console shows for a failed call. tRPC client errors carry the API's message (written to be
 * safe to show) and `data` from its errorFormatter, which for a step-up refusal includes
 * `stepUp: { targetId }`.
 */
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null;

export function errorMessage(error: unknown): string {
  if (isObject(error) && typeof error.message === "string" && error.message) return error.message;
  return "Something went wrong. Try again.";
}

/** The target that needs a fresh sign-in, when the API refused for that reason. */
export function stepUpTargetId(error: unknown): string | null {
  if (!isObject(error) || !isObject(error.data)) return null;
  const stepUp = error.data.stepUp;
  if (!isObject(stepUp) || typeof stepUp.targetId !== "string") return null;
  return stepUp.targetId;
}

/** The HTTP status the API answered with, if the error carries one. */
export function httpStatus(error: unknown): number | null {
  if (!isObject(error) || !isObject(error.data)) return null;
  return typeof error.data.httpStatus === "number" ? error.data.httpStatus : null;
}
