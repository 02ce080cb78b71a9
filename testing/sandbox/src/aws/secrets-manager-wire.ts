import { charLength } from "./aws-limits.js";
import { constraintProblem } from "./aws-query-error.js";
import { secretsError } from "./secrets-manager-store.js";

/**
 * Secrets Manager's side of the AWS JSON 1.1 protocol: `POST /` with `X-Amz-Target:
 * secretsmanager.<Operation>` and a JSON object body; answers are JSON objects, errors
 * `{"__type": "<Type>", "message": "…"}`. Member readers here refuse wrongly typed members the way
 * the service's deserializer does, and collect model-constraint problems into one ValidationException.
 */

export const JSON_CONTENT_TYPE = "application/x-amz-json-1.1";
export const TARGET_PREFIX = "secretsmanager.";

export type JsonObject = Record<string, unknown>;

const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const serializationError = (message: string) => secretsError(400, "SerializationException", message);

/** The request body as a JSON object (an empty body is an empty object). */
export function parseJsonBody(body: Buffer): JsonObject {
  const text = body.toString("utf8");
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw serializationError("The request body is not valid JSON.");
  }
  if (!isJsonObject(value)) throw serializationError("The request body must be a JSON object.");
  return value;
}

/** An optional string member; `null` counts as absent. */
export function readString(input: JsonObject, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw serializationError(`${name} must be a string.`);
  return value;
}

export function readStringList(input: JsonObject, name: string): string[] | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === "string")) {
    throw serializationError(`${name} must be a list of strings.`);
  }
  return value;
}

export function readInteger(input: JsonObject, name: string): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw serializationError(`${name} must be an integer.`);
  }
  return value;
}

export function readBoolean(input: JsonObject, name: string): boolean | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw serializationError(`${name} must be a boolean.`);
  return value;
}

/** Model-constraint problems of one request, reported together as AWS does. */
export type Problems = string[];

/** How the model names a member in messages: `ClientRequestToken` → `clientRequestToken`. */
const memberPath = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);

/**
 * Length constraints of a string member. `sensitive` members (the secret value) are never echoed, and
 * `maxBytes` counts UTF-8 bytes instead of characters.
 */
export function checkLength(
  problems: Problems,
  name: string,
  value: string | undefined,
  rule: { min: number; max?: number; maxBytes?: number },
  options: { required?: boolean; sensitive?: boolean } = {},
): void {
  const path = memberPath(name);
  if (value === undefined) {
    if (options.required === true) problems.push(constraintProblem(null, path, "Member must not be null"));
    return;
  }
  const problem = (constraint: string) =>
    problems.push(
      options.sensitive === true
        ? `Value at '${path}' failed to satisfy constraint: ${constraint}`
        : constraintProblem(value, path, constraint),
    );
  if (charLength(value) < rule.min) problem(`Member must have length greater than or equal to ${rule.min}`);
  if (rule.max !== undefined && charLength(value) > rule.max) {
    problem(`Member must have length less than or equal to ${rule.max}`);
  }
  if (rule.maxBytes !== undefined && Buffer.byteLength(value, "utf8") > rule.maxBytes) {
    problem(`Member must have length less than or equal to ${rule.maxBytes}`);
  }
}

/** A list of strings: its own length, and each element's. */
export function checkStringList(
  problems: Problems,
  name: string,
  values: readonly string[] | undefined,
  listRule: { min: number; max: number },
  itemRule: { min: number; max: number },
): void {
  if (values === undefined) return;
  const path = memberPath(name);
  const shown = `[${values.join(", ")}]`;
  if (values.length < listRule.min) {
    problems.push(
      constraintProblem(shown, path, `Member must have length greater than or equal to ${listRule.min}`),
    );
  }
  if (values.length > listRule.max) {
    problems.push(
      constraintProblem(shown, path, `Member must have length less than or equal to ${listRule.max}`),
    );
  }
  const itemProblems = new Set<string>();
  for (const value of values) {
    if (charLength(value) < itemRule.min) {
      itemProblems.add(`Member must have length greater than or equal to ${itemRule.min}`);
    }
    if (charLength(value) > itemRule.max) {
      itemProblems.add(`Member must have length less than or equal to ${itemRule.max}`);
    }
  }
  if (itemProblems.size > 0) {
    problems.push(
      constraintProblem(shown, path, `Member must satisfy constraint: [${[...itemProblems].join(", ")}]`),
    );
  }
}

export function checkRange(
  problems: Problems,
  name: string,
  value: number | undefined,
  rule: { min: number; max: number },
): void {
  if (value === undefined) return;
  const path = memberPath(name);
  if (value < rule.min) {
    problems.push(
      constraintProblem(String(value), path, `Member must have value greater than or equal to ${rule.min}`),
    );
  }
  if (value > rule.max) {
    problems.push(
      constraintProblem(String(value), path, `Member must have value less than or equal to ${rule.max}`),
    );
  }
}

/** Throws the collected problems as one 400 ValidationException ("2 validation errors detected: …"). */
export function throwProblems(problems: Problems): void {
  if (problems.length === 0) return;
  const noun = problems.length === 1 ? "validation error" : "validation errors";
  throw secretsError(
    400,
    "ValidationException",
    `${problems.length} ${noun} detected: ${problems.join("; ")}`,
  );
}

/** Dates travel as epoch seconds (with milliseconds as the fraction). */
export const epochSeconds = (at: Date): number => at.getTime() / 1000;

/** The JSON error document. */
export const renderJsonError = (type: string, message: string): string =>
  JSON.stringify({ __type: type, message });
