import { UpstreamError } from "@leasehold/domain";
import type { OnCallBinding, OnCallProvider } from "./on-call-schemas.js";

/**
 * The port behind on-call auto-approval: whether a person is on call for a target's service, which open
 * incidents naming the service are assigned to them, and whether such an incident is still open.
 */

export type OnCallStatus = {
  onCall: boolean;
  /** Ids of open incidents naming the binding's service that are assigned to this person. */
  incidents: readonly string[];
};

export interface OnCallSource {
  /**
   * Whether `email` is on call at `at` on one of the binding's schedules, and the open incidents
   * (as of now, not `at`) naming its service that are assigned to them. A person the provider does not
   * know is neither on call nor assigned.
   */
  status(email: string, binding: OnCallBinding, at: Date): Promise<OnCallStatus>;
  /**
   * Whether the incident is still open (triggered/acknowledged; Opsgenie: `open`) and still names the
   * binding's service; false once resolved, or when the provider no longer knows it.
   */
  incidentOpen(binding: OnCallBinding, incidentId: string): Promise<boolean>;
}

export const PROVIDER_NAMES: Record<OnCallProvider, string> = {
  pagerduty: "PagerDuty",
  opsgenie: "Opsgenie",
};

/**
 * The provider could not answer: unreachable, timed out, 5xx, rate limited (429), refused our
 * credentials or request, or answered something that is not what its API documents. The message names
 * the provider and what happened, never the token. `retryable` says whether asking again later can help;
 * `retryAfterSeconds` is the provider's own hint, when it gave one.
 */
export class OnCallUnavailableError extends UpstreamError {
  // `name` stays "UpstreamError" (a literal in the base class), so every edge already maps it.
  readonly provider: OnCallProvider;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    provider: OnCallProvider,
    message: string,
    options: { retryable: boolean; upstreamCode: string; retryAfterSeconds?: number; cause?: unknown },
  ) {
    super(`${PROVIDER_NAMES[provider]}: ${message}`, {
      retryable: options.retryable,
      upstreamCode: options.upstreamCode,
      cause: options.cause,
    });
    this.provider = provider;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * One source over both providers, choosing by `binding.provider`. A provider that is not configured
 * (no `onCall.<provider>` block) is reported as unavailable, not as "nobody is on call".
 */
export function createOnCallRouter(sources: Partial<Record<OnCallProvider, OnCallSource>>): OnCallSource {
  const pick = (binding: OnCallBinding): OnCallSource => {
    const source = sources[binding.provider];
    if (source === undefined) {
      throw new OnCallUnavailableError(binding.provider, `not configured (add onCall.${binding.provider})`, {
        retryable: false,
        upstreamCode: "not-configured",
      });
    }
    return source;
  };
  return {
    // async, so an unconfigured provider is a rejected promise like any other failure, not a throw.
    status: async (email, binding, at) => pick(binding).status(email, binding, at),
    incidentOpen: async (binding, incidentId) => pick(binding).incidentOpen(binding, incidentId),
  };
}
