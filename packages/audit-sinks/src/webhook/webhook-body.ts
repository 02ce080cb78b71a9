import { createHmac } from "node:crypto";
import type { AuditEvent } from "@leasehold/domain";
import { recordOf } from "../audit-record.js";
import type { WebhookAuditSinkSettings } from "./webhook-sink-schema.js";

/** What one POST carries: the raw body and the headers that go with it (secrets included, never logged). */
export type WebhookRequest = { readonly body: string; readonly headers: Record<string, string> };

/** `sha256=<hex>`: HMAC-SHA256 of the exact bytes sent, so the receiver checks before parsing. */
export const signatureOf = (key: string, body: string) =>
  `sha256=${createHmac("sha256", key).update(body, "utf8").digest("hex")}`;

/**
 * One Splunk HEC event per audit event (wave2 contract §5): `time` in epoch seconds with the
 * milliseconds as a fraction, the record as `event`, and `seq`, `action` and `subject_type` as
 * indexed fields (flat strings: HEC refuses nested objects there). Batched by concatenation.
 */
function splunkBody(settings: WebhookAuditSinkSettings, events: readonly AuditEvent[]): string {
  const { index, source, sourcetype, host } = settings.splunk;
  return events
    .map((event) =>
      JSON.stringify({
        time: event.at.getTime() / 1000,
        ...(host ? { host } : {}),
        ...(source ? { source } : {}),
        sourcetype,
        ...(index ? { index } : {}),
        event: recordOf("json", event),
        fields: { seq: String(event.seq), action: event.action, subject_type: event.subjectType },
      }),
    )
    .join("\n");
}

/** The request for one batch of consecutive events. */
export function webhookRequest(
  settings: WebhookAuditSinkSettings,
  secrets: { hmacKey: string | undefined; token: string | undefined },
  events: readonly AuditEvent[],
): WebhookRequest {
  const first = events[0]?.seq ?? 0;
  const last = events.at(-1)?.seq ?? 0;
  const body =
    settings.format === "splunk-hec"
      ? splunkBody(settings, events)
      : JSON.stringify({
          events: events.map((event) => recordOf(settings.format === "ocsf" ? "ocsf" : "json", event)),
        });
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-leasehold-seq-range": `${first}-${last}`,
  };
  if (secrets.hmacKey !== undefined) headers["x-leasehold-signature"] = signatureOf(secrets.hmacKey, body);
  if (settings.format === "splunk-hec" && secrets.token !== undefined) {
    headers.authorization = `Splunk ${secrets.token}`;
    if (settings.splunk.channel) headers["x-splunk-request-channel"] = settings.splunk.channel;
  }
  return { body, headers };
}
