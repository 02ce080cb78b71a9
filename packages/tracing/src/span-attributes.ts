import type { Attributes, AttributeValue } from "@opentelemetry/api";

/**
 * The only attribute keys a Leasehold span may carry: ids, names, kinds and outcomes. Spans leave the
 * box (to whatever OTLP collector the operator runs), so nothing that could be a secret, a token, a
 * credential or a person's email is ever recorded: a key not listed here is dropped, whatever its value.
 * Principals appear by kind only (`human`, `workload`): the audit trail, not the trace, says who.
 */
export const ALLOWED_ATTRIBUTES = [
  // The tRPC call: its procedure path, the caller's kind, the API's own request id.
  "rpc.system",
  "rpc.method",
  "leasehold.principal.kind",
  "leasehold.http.request_id",
  // Queues: which queue, which job (job ids derived from grant ids, audit sequence numbers or rotation ids), which try.
  "messaging.system",
  "messaging.operation.type",
  "messaging.destination.name",
  "messaging.message.id",
  "leasehold.job.attempt",
  // Grants and providers.
  "leasehold.grant.id",
  "leasehold.target.id",
  "leasehold.target.kind",
  "leasehold.provider.kind",
  "leasehold.provider.operation",
  // Rotations and Slack interactions (constant action and callback ids, command names).
  "leasehold.rotation.id",
  "leasehold.slack.type",
  "leasehold.slack.action",
  // How it went: `ok` or `error`, and for errors the domain error code or `internal`, never the message.
  "leasehold.outcome",
  "leasehold.error.kind",
] as const;

export type AllowedAttribute = (typeof ALLOWED_ATTRIBUTES)[number];
/** What a caller may put on a span: only allowed keys, only scalar values. */
export type SpanAttributes = Partial<Record<AllowedAttribute, string | number | boolean>>;

const allowed: ReadonlySet<string> = new Set(ALLOWED_ATTRIBUTES);

/** Ids and names are short; anything longer is not what the allow-list meant, so it is cut. */
export const MAX_ATTRIBUTE_LENGTH = 128;

const bounded = (value: AttributeValue): AttributeValue | undefined => {
  if (typeof value === "string") return value.slice(0, MAX_ATTRIBUTE_LENGTH);
  if (typeof value === "number" || typeof value === "boolean") return value;
  return undefined; // arrays: nothing we record is a list
};

/**
 * Keeps only allow-listed keys with scalar values (strings cut to MAX_ATTRIBUTE_LENGTH). Applied when
 * a span is started and again to every span on its way out, so a span from anywhere is filtered.
 */
export function allowedAttributes(attributes: Attributes | undefined): Attributes {
  const kept: Attributes = {};
  for (const [key, value] of Object.entries(attributes ?? {})) {
    if (!allowed.has(key) || value === undefined) continue;
    const safe = bounded(value);
    if (safe !== undefined) kept[key] = safe;
  }
  return kept;
}
