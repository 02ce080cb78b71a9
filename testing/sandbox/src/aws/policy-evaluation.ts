import { AwsQueryError } from "./aws-query-error.js";
import { type Principal, principalArn, type Session } from "./aws-sandbox-state.js";

/**
 * IAM policy evaluation, as far as early revocation needs it (shared/contracts/wave2.md §1): a call
 * made with session credentials is refused when any statement of the session's role's inline
 * policies, or of its session policy, explicitly denies it. An explicit Deny overrides any Allow.
 *
 * A session policy narrows the session (AWS intersects it with the role's policies): a call made with
 * a session that has one is refused unless one of its Allow statements applies ("no session policy
 * allows the action"). [EVAL] https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
 *
 * Simplified, on purpose: the role's permission policies are not modelled, so a session without a
 * session policy may do everything unless a Deny applies (no Allow evaluation of the role, no
 * permissions boundaries, SCPs or resource policies). Calls signed with the long-term sandbox key are
 * not evaluated. Condition context keys: `aws:userid`, `aws:SourceIdentity`, `aws:PrincipalTag/<key>`
 * (the session's tags), `aws:TokenIssueTime`, `aws:PrincipalArn`; all single-valued. An operator the
 * stand-in does not model makes the call fail loudly (InternalFailure), never silently allowed.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Statement = { [key: string]: Json };

const isObject = (value: Json | undefined): value is { [key: string]: Json } =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const asList = (value: Json | undefined): Json[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** IAM's `*` (any run) and `?` (one character) wildcards; everything else literal. */
function wildcard(pattern: string, flags = ""): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, `s${flags}`);
}

/** The request context keys of a session, by lower-cased name (condition keys are case-insensitive). */
export function sessionContext(session: Session): Map<string, string> {
  const context = new Map<string, string>([
    ["aws:userid", session.assumedRoleId],
    ["aws:principalarn", session.role.arn],
    ["aws:tokenissuetime", session.issuedAt.toISOString()],
  ]);
  if (session.sourceIdentity !== undefined) context.set("aws:sourceidentity", session.sourceIdentity);
  for (const [key, value] of Object.entries(session.tags)) {
    context.set(`aws:principaltag/${key.toLowerCase()}`, value);
  }
  return context;
}

/** ISO 8601 or epoch seconds, as the date operators accept. */
function dateOf(value: string): number {
  return /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value);
}

const OPERATORS: Record<string, (actual: string, expected: string) => boolean> = {
  StringEquals: (a, e) => a === e,
  StringEqualsIgnoreCase: (a, e) => a.toLowerCase() === e.toLowerCase(),
  StringLike: (a, e) => wildcard(e).test(a),
  ArnEquals: (a, e) => a === e,
  ArnLike: (a, e) => wildcard(e).test(a),
  DateEquals: (a, e) => dateOf(a) === dateOf(e),
  DateLessThan: (a, e) => dateOf(a) < dateOf(e),
  DateLessThanEquals: (a, e) => dateOf(a) <= dateOf(e),
  DateGreaterThan: (a, e) => dateOf(a) > dateOf(e),
  DateGreaterThanEquals: (a, e) => dateOf(a) >= dateOf(e),
  NumericEquals: (a, e) => Number(a) === Number(e),
  NumericLessThan: (a, e) => Number(a) < Number(e),
  NumericLessThanEquals: (a, e) => Number(a) <= Number(e),
  NumericGreaterThan: (a, e) => Number(a) > Number(e),
  NumericGreaterThanEquals: (a, e) => Number(a) >= Number(e),
  Bool: (a, e) => a.toLowerCase() === e.toLowerCase(),
};

/** Negated operators: true when the key is absent, otherwise no listed value matches. */
const NEGATED: Record<string, string> = {
  StringNotEquals: "StringEquals",
  StringNotEqualsIgnoreCase: "StringEqualsIgnoreCase",
  StringNotLike: "StringLike",
  ArnNotEquals: "ArnEquals",
  ArnNotLike: "ArnLike",
  DateNotEquals: "DateEquals",
  NumericNotEquals: "NumericEquals",
};

/** One `Operator: { key: value | [values] }` clause: keys ANDed, a key's values ORed. */
function clauseHolds(operator: string, clause: { [key: string]: Json }, context: Map<string, string>) {
  const ifExists = operator.endsWith("IfExists");
  const base = ifExists ? operator.slice(0, -"IfExists".length) : operator;
  return Object.entries(clause).every(([key, value]) => {
    const actual = context.get(key.toLowerCase());
    const expected = asList(value).map(String);
    if (base === "Null") {
      return expected.some((wanted) => (wanted.toLowerCase() === "true") === (actual === undefined));
    }
    const negated = NEGATED[base];
    const test = OPERATORS[negated ?? base];
    if (test === undefined) {
      throw new AwsQueryError(
        500,
        "InternalFailure",
        `The stand-in does not model the condition operator ${operator}.`,
      );
    }
    if (actual === undefined) return ifExists || negated !== undefined;
    const matches = expected.some((wanted) => test(actual, wanted));
    return negated === undefined ? matches : !matches;
  });
}

function matchesAny(values: Json | undefined, target: string, flags: string): boolean {
  return asList(values).some((value) => typeof value === "string" && wildcard(value, flags).test(target));
}

function statementApplies(
  statement: Statement,
  action: string,
  resource: string,
  context: Map<string, string>,
) {
  const actionHit =
    statement.Action !== undefined
      ? matchesAny(statement.Action, action, "i")
      : !matchesAny(statement.NotAction, action, "i");
  const resourceHit =
    statement.Resource !== undefined
      ? matchesAny(statement.Resource, resource, "")
      : !matchesAny(statement.NotResource, resource, "");
  if (!actionHit || !resourceHit) return false;
  const condition = statement.Condition;
  if (!isObject(condition)) return true;
  return Object.entries(condition).every(([operator, clause]) =>
    isObject(clause) ? clauseHolds(operator, clause, context) : false,
  );
}

/** True when one of `documents` (stored, well-formed policies) explicitly denies the call. */
export function explicitlyDenied(
  documents: Iterable<string>,
  action: string,
  resource: string,
  context: Map<string, string>,
): boolean {
  for (const document of documents) {
    const parsed = JSON.parse(document) as Json;
    if (!isObject(parsed)) continue;
    for (const statement of asList(parsed.Statement)) {
      if (
        isObject(statement) &&
        statement.Effect === "Deny" &&
        statementApplies(statement, action, resource, context)
      ) {
        return true;
      }
    }
  }
  return false;
}

/** True when one of the document's Allow statements applies to the call. */
export function explicitlyAllowed(
  document: string,
  action: string,
  resource: string,
  context: Map<string, string>,
): boolean {
  const parsed = JSON.parse(document) as Json;
  if (!isObject(parsed)) return false;
  return asList(parsed.Statement).some(
    (statement) =>
      isObject(statement) &&
      statement.Effect === "Allow" &&
      statementApplies(statement, action, resource, context),
  );
}

/**
 * Refuses a call made with session credentials that the session's role's inline policies or its
 * session policy explicitly deny, with IAM's AccessDenied message (403; the JSON services'
 * `AccessDeniedException` is HTTP 400). `shownResource` is how the message names it (IAM says
 * `role <name>`). Long-term keys pass.
 * `sts:GetCallerIdentity` must never be passed here: IAM never denies it.
 */
export function authorizeCall(
  caller: Principal,
  action: string,
  resource: string,
  refusal: { code?: string; shownResource?: string } = {},
) {
  const { code = "AccessDenied", shownResource = resource } = refusal;
  if (caller.kind !== "session") return;
  const { session } = caller;
  const documents = [
    ...session.role.inlinePolicies.values(),
    ...(session.policy === undefined ? [] : [session.policy]),
  ];
  const context = sessionContext(session);
  const status = code === "AccessDenied" ? 403 : 400;
  const refused = `User: ${principalArn(caller)} is not authorized to perform: ${action} on resource: ${shownResource}`;
  if (explicitlyDenied(documents, action, resource, context)) {
    throw new AwsQueryError(status, code, `${refused} with an explicit deny in an identity-based policy`);
  }
  if (session.policy !== undefined && !explicitlyAllowed(session.policy, action, resource, context)) {
    throw new AwsQueryError(status, code, `${refused} because no session policy allows the ${action} action`);
  }
}
