import { type AuditEvent, type AuditSink, UpstreamError } from "@leasehold/domain";
import { type SinkEnvironment, secretFrom } from "../sink-settings.js";
import { type WebhookRequest, webhookRequest } from "./webhook-body.js";
import type { WebhookAuditSinkSettings } from "./webhook-sink-schema.js";

const MAX_BACKOFF_MS = 30_000;
/** An HMAC key shorter than this is guessable; refuse it at start. */
const MIN_HMAC_KEY = 32;

export type WebhookSinkDeps = {
  readonly env: SinkEnvironment;
  /** Waits between tries; injected so tests do not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** In [0, 1): the jitter. */
  readonly random?: () => number;
};

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A refusal worth trying again: the receiver is busy, down, or rate limiting. */
const retryableStatus = (status: number) => status === 408 || status === 429 || status >= 500;

/** Splunk's `{"text", "code"}` answer, when the body is one (never a secret: Splunk's own words). */
async function hecDetail(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  try {
    const parsed = JSON.parse(text) as { text?: unknown; code?: unknown };
    if (typeof parsed.code === "number" && typeof parsed.text === "string") {
      return ` (HEC code ${parsed.code}: ${parsed.text.slice(0, 200)})`;
    }
  } catch {
    // Not HEC's JSON: the status says enough.
  }
  return "";
}

/**
 * The webhook sink (and Splunk HEC): POSTs the delivery in batches of `batchSize`, in order. Each POST
 * is tried up to `attempts` times with exponential backoff and full jitter; a receiver that refuses
 * (4xx other than 408/429) is not tried again in this delivery. The cursor moves only when every
 * batch was accepted, so delivery is at least once: receivers drop repeats by `seq`
 * (`X-Leasehold-Seq-Range` names the batch's first and last).
 */
export function createWebhookSink(settings: WebhookAuditSinkSettings, deps: WebhookSinkDeps): AuditSink {
  const sleep = deps.sleep ?? wait;
  const random = deps.random ?? Math.random;
  const hmacKey =
    settings.hmacKeyEnv === undefined
      ? undefined
      : secretFrom(deps.env, settings.hmacKeyEnv, `auditSinks.${settings.name}.hmacKeyEnv`);
  if (hmacKey !== undefined && hmacKey.length < MIN_HMAC_KEY) {
    throw new Error(`${settings.hmacKeyEnv} must hold at least ${MIN_HMAC_KEY} characters`);
  }
  const token =
    settings.format === "splunk-hec" && settings.tokenEnv !== undefined
      ? secretFrom(deps.env, settings.tokenEnv, `auditSinks.${settings.name}.tokenEnv`)
      : undefined;
  // The host only: the path may be long, and errors should say where, not how.
  const where = new URL(settings.url).host;
  const failure = (what: string, retryable: boolean, cause?: unknown) =>
    new UpstreamError(`webhook audit sink "${settings.name}": ${where} ${what}`, { retryable, cause });

  const tryOnce = async (request: WebhookRequest): Promise<UpstreamError | undefined> => {
    let response: Response;
    try {
      response = await fetch(settings.url, {
        method: "POST",
        headers: request.headers,
        body: request.body,
        // A redirect is not followed: it would carry the signed body (and a HEC token) somewhere else.
        redirect: "manual",
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
    } catch (error) {
      const timedOut = (error as Error).name === "TimeoutError";
      return failure(
        timedOut ? `did not answer within ${settings.timeoutMs} ms` : "could not be reached",
        true,
        error,
      );
    }
    if (response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    const detail = settings.format === "splunk-hec" ? await hecDetail(response) : "";
    if (!detail) await response.body?.cancel().catch(() => undefined);
    return failure(`answered ${response.status}${detail}`, retryableStatus(response.status));
  };

  const post = async (request: WebhookRequest) => {
    for (let attempt = 1; ; attempt += 1) {
      const error = await tryOnce(request);
      if (!error) return;
      if (!error.retryable || attempt >= settings.attempts) throw error;
      const ceiling = Math.min(MAX_BACKOFF_MS, settings.backoffMs * 2 ** (attempt - 1));
      await sleep(Math.floor(random() * ceiling));
    }
  };

  return {
    name: settings.name,
    async deliver(events: readonly AuditEvent[]) {
      for (let from = 0; from < events.length; from += settings.batchSize) {
        await post(
          webhookRequest(settings, { hmacKey, token }, events.slice(from, from + settings.batchSize)),
        );
      }
    },
  };
}
