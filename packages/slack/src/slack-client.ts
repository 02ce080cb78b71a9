import { WebClient } from "@slack/web-api";

/**
 * A Slack Web API client that never waits or retries by itself: a rate limit comes back as an error
 * (with Retry-After) so the queue can pause, and every retry is the queue's, where it is counted.
 */
export function createSlackClient(options: {
  token: string;
  apiUrl?: string | undefined;
  /** Per call; default 10 s. */
  timeoutMs?: number;
}): WebClient {
  return new WebClient(options.token, {
    ...(options.apiUrl
      ? { slackApiUrl: options.apiUrl.endsWith("/") ? options.apiUrl : `${options.apiUrl}/` }
      : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: options.timeoutMs ?? 10_000,
  });
}

/** The seconds Slack asked to wait, when the error is a rate limit. */
export function retryAfterSeconds(error: unknown): number | undefined {
  const e = error as { code?: string; retryAfter?: number };
  return e?.code === "slack_webapi_rate_limited_error" ? (e.retryAfter ?? 1) : undefined;
}
