import { createHmac, randomBytes, randomUUID } from "node:crypto";
import type {
  PagerDutyIncidentRecord,
  PagerDutyWebhookDelivery,
  PagerDutyWebhookResult,
} from "./pagerduty-sandbox-types.js";
import { reference } from "./pagerduty-wire.js";

/**
 * PagerDuty's side of Webhooks v3 (contracts wave2 §7): one event per POST, signed with
 * `X-PagerDuty-Signature: v1=<hex HMAC-SHA256(secret, raw body)>`, one entry per subscription secret,
 * comma separated; `X-Webhook-Id` unique per webhook and repeated on each retry. The User-Agent PagerDuty
 * sends is not documented; the one here is a placeholder.
 */

/** The `X-PagerDuty-Signature` value for a raw body and a list of secrets. */
export function pagerDutySignature(rawBody: string | Buffer, secrets: readonly string[]): string {
  return secrets
    .map((secret) => `v1=${createHmac("sha256", secret).update(rawBody).digest("hex")}`)
    .join(",");
}

/** The event body for an incident event, as PagerDuty renders it. */
export function incidentEventBody(
  apiUrl: string,
  incident: PagerDutyIncidentRecord,
  eventType: string,
  at: Date,
  serviceName: string,
): string {
  const event = {
    id: `01${randomBytes(12).toString("hex").toUpperCase()}`,
    event_type: eventType,
    resource_type: "incident",
    occurred_at: at.toISOString(),
    agent: null,
    client: null,
    data: {
      id: incident.id,
      type: "incident",
      self: `${apiUrl}/incidents/${incident.id}`,
      html_url: `https://sandbox.pagerduty.com/incidents/${incident.id}`,
      number: incident.number,
      status: incident.status,
      incident_key: null,
      created_at: incident.createdAt.toISOString(),
      title: incident.title,
      service: reference(apiUrl, "service", incident.serviceId, serviceName),
      assignees: incident.assigneeIds.map((id) => reference(apiUrl, "user", id, id)),
      escalation_policy: null,
      teams: [],
      priority: null,
    },
  };
  return JSON.stringify({ event });
}

/** POSTs the body with its signature to the delivery's URL; resolves with what the receiver answered. */
export async function deliverWebhook(
  delivery: PagerDutyWebhookDelivery,
  body: string,
  signal: AbortSignal,
): Promise<PagerDutyWebhookResult> {
  const webhookId = delivery.webhookId ?? randomUUID();
  const response = await fetch(delivery.url, {
    method: "POST",
    headers: {
      ...delivery.headers,
      "Content-Type": "application/json",
      "User-Agent": "PagerDuty-Webhook/V3.0 (leasehold sandbox)",
      "X-PagerDuty-Signature": pagerDutySignature(body, delivery.secrets),
      "X-Webhook-Id": webhookId,
      "X-Webhook-Subscription": "PSANDBOXSUB",
    },
    body,
    // PagerDuty waits 5 s for a 2xx before it counts the delivery as failed.
    signal: AbortSignal.any([signal, AbortSignal.timeout(5_000)]),
  });
  return { status: response.status, webhookId, body: await response.text() };
}
