import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { pagerDutyId } from "./on-call-schemas.js";

/**
 * PagerDuty Webhooks v3 signatures (contracts wave2 §7): `X-PagerDuty-Signature` holds one or more
 * comma-separated `v1=<hex HMAC-SHA256(secret, raw body)>` entries (several while a secret is rotated);
 * the webhook is genuine when at least one entry matches one of our secrets. No timestamp is signed,
 * so the caller de-duplicates on `X-Webhook-Id` (the same on every retry of one webhook) to stop replays.
 */

/** PagerDuty guarantees delivery up to 55 KB; anything far beyond that is not a webhook of ours. */
export const MAX_WEBHOOK_BYTES = 256 * 1024;
const MAX_SIGNATURE_HEADER = 4096;
const MAX_SECRETS = 10;

export type PagerDutyWebhookEvent = { webhookId: string; eventType: string; incidentId: string };

/** Request headers as node:http gives them (lower-case names) or as a plain record. */
export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

const header = (headers: WebhookHeaders, name: string): string | undefined => {
  const value = headers[name] ?? headers[name.toLowerCase()];
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : value.join(",");
};

const eventSchema = z.object({
  event: z.object({
    event_type: z
      .string()
      .max(100)
      .regex(/^[a-z_]+(?:\.[a-z_]+)+$/),
    resource_type: z.literal("incident"),
    data: z.object({ id: pagerDutyId, type: z.literal("incident") }),
  }),
});

/** The `v1=` signatures of the header, as 32-byte digests; other schemes and malformed entries dropped. */
function v1Signatures(value: string): Buffer[] {
  return value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => /^v1=[0-9a-fA-F]{64}$/.test(entry))
    .map((entry) => Buffer.from(entry.slice(3), "hex"));
}

/**
 * The incident event a genuine webhook carries, or null when it is not one: no or bad signature, no
 * `X-Webhook-Id`, a body too large or not an incident event. Every signature is compared with every
 * secret in constant time, without stopping at the first match. An empty `secrets` list accepts nothing.
 * Subscribe to incident events only: a signed `service.*` event is null too, and answering it with a
 * 4xx counts towards PagerDuty disabling the subscription.
 */
export function verifyPagerDutyWebhook(
  rawBody: Buffer,
  headers: WebhookHeaders,
  secrets: readonly string[],
): PagerDutyWebhookEvent | null {
  if (rawBody.length > MAX_WEBHOOK_BYTES) return null;
  const signatureHeader = header(headers, "x-pagerduty-signature");
  if (signatureHeader === undefined || signatureHeader.length > MAX_SIGNATURE_HEADER) return null;
  const signatures = v1Signatures(signatureHeader);
  const keys = secrets.filter((secret) => secret.length > 0).slice(0, MAX_SECRETS);
  let matched = false;
  for (const secret of keys) {
    const expected = createHmac("sha256", secret).update(rawBody).digest();
    for (const signature of signatures) matched = timingSafeEqual(expected, signature) || matched;
  }
  if (!matched) return null;

  const webhookId = header(headers, "x-webhook-id")?.trim();
  if (webhookId === undefined || !/^[\x21-\x7e]{1,128}$/.test(webhookId)) return null;
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString("utf8"));
  } catch {
    return null;
  }
  const parsed = eventSchema.safeParse(json);
  if (!parsed.success) return null;
  return { webhookId, eventType: parsed.data.event.event_type, incidentId: parsed.data.event.data.id };
}

/** The secrets from the variable `onCall.pagerduty.webhookSecretsEnv` names: comma separated, blanks dropped. */
export const parseWebhookSecrets = (value: string | undefined): string[] =>
  (value ?? "")
    .split(",")
    .map((secret) => secret.trim())
    .filter((secret) => secret.length > 0);
