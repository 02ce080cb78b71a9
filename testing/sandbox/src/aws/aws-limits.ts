import { constraintProblem } from "./aws-query-error.js";

/**
 * Parameter limits of the real STS and IAM APIs (shared/contracts/README.md and the services' API
 * models). This is the stand-in's own copy on purpose: it must not import the product's limits, or a
 * mistake there would be mirrored here and every test would agree with it.
 */

/** A string member's constraints as the AWS model states them. `patternText` is quoted in messages. */
export type StringRule = { min: number; max: number; pattern: RegExp; patternText: string };

const rule = (min: number, max: number, pattern: RegExp, patternText: string): StringRule => ({
  min,
  max,
  pattern,
  patternText,
});

/** Characters allowed in tag keys and values: letters, separators (spaces), digits and `_.:/=+-@`. */
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const TAG_CHARS_TEXT = "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]";

export const STS_LIMITS = {
  roleArn: rule(
    20,
    2048,
    /^[\t\n\r\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u,
    "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-\\uFFFD\\u10000-\\u10FFFF]+",
  ),
  roleSessionName: rule(2, 64, /^[\w+=,.@-]*$/, "[\\w+=,.@-]*"),
  /** Inline session policy: at most 2048 characters, tab/newline/CR and U+0020–U+00FF only. */
  policy: rule(1, 2048, /^[\t\n\r\u0020-\u00FF]*$/, "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"),
  maxPolicyArns: 10,
  durationSeconds: { min: 900, max: 43_200 },
  /** A role's MaxSessionDuration when none is configured, and the cap for a chained session. */
  defaultDurationSeconds: 3600,
  roleChainingMaxDurationSeconds: 3600,
  maxTags: 50,
  tagKey: rule(1, 128, TAG_CHARS, `${TAG_CHARS_TEXT}+`),
  tagValue: rule(0, 256, TAG_CHARS, `${TAG_CHARS_TEXT}*`),
  maxTransitiveTagKeys: 50,
  externalId: rule(2, 1224, /^[\w+=,.@:/-]*$/, "[\\w+=,.@:\\/-]*"),
  sourceIdentity: rule(2, 64, /^[\w+=,.@-]*$/, "[\\w+=,.@-]*"),
  serialNumber: rule(9, 256, /^[\w+=/:,.@-]*$/, "[\\w+=/:,.@-]*"),
  tokenCode: rule(6, 6, /^\d*$/, "[\\d]*"),
  /** Prefix reserved by AWS for tag keys and source identities (compared case-insensitively). */
  reservedPrefix: "aws:",
} as const;

export const IAM_LIMITS = {
  roleName: rule(1, 64, /^[\w+=,.@-]*$/, "[\\w+=,.@-]+"),
  policyName: rule(1, 128, /^[\w+=,.@-]*$/, "[\\w+=,.@-]+"),
  policyDocument: rule(1, 131_072, /^[\t\n\r\u0020-\u00FF]*$/, "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"),
  /** Sum of a role's inline policy sizes, whitespace not counted. */
  maxInlinePolicyCharsPerRole: 10_240,
  /** The region IAM requests must be signed for (aws partition). */
  signingRegion: "us-east-1",
} as const;

/** Length in Unicode code points, which is how the AWS models count characters. */
export const charLength = (text: string): number => [...text].length;

/**
 * Appends to `problems` every constraint `value` breaks, in AWS's wording; `undefined` is a missing
 * member, a problem only when `required`.
 */
export function checkString(
  problems: string[],
  member: string,
  value: string | undefined,
  stringRule: StringRule,
  required = false,
): void {
  if (value === undefined) {
    if (required) problems.push(constraintProblem(null, member, "Member must not be null"));
    return;
  }
  const length = charLength(value);
  if (length < stringRule.min) {
    problems.push(
      constraintProblem(value, member, `Member must have length greater than or equal to ${stringRule.min}`),
    );
  }
  if (length > stringRule.max) {
    problems.push(
      constraintProblem(value, member, `Member must have length less than or equal to ${stringRule.max}`),
    );
  }
  if (!stringRule.pattern.test(value)) {
    problems.push(
      constraintProblem(
        value,
        member,
        `Member must satisfy regular expression pattern: ${stringRule.patternText}`,
      ),
    );
  }
}

/** True when `text` starts with `aws:` in any letter case. */
export const hasReservedPrefix = (text: string): boolean =>
  text.toLowerCase().startsWith(STS_LIMITS.reservedPrefix);
