import { emailPrincipalId, InvalidRequestError } from "@leasehold/domain";
import {
  type OnCallBinding,
  type OnCallProvider,
  onCallBindingSchema,
  pagerDutyId,
} from "./on-call-schemas.js";
import { PROVIDER_NAMES } from "./on-call-source.js";

/**
 * The sources' own edge: what the caller passes is checked before anything is sent, so a bad value is
 * a clear InvalidRequestError and never reaches a provider's URL.
 */

/** The person's email, case-folded, as Leasehold compares principals. */
export function checkedEmail(email: string): string {
  const parsed = emailPrincipalId(email);
  if (!parsed.ok)
    throw new InvalidRequestError(`The on-call lookup needs an email; this one ${parsed.problem}`);
  return parsed.id;
}

/** The binding, valid and for this provider. */
export function checkedBinding(binding: OnCallBinding, provider: OnCallProvider): OnCallBinding {
  const parsed = onCallBindingSchema.safeParse(binding);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidRequestError(
      `The on-call binding is not valid: ${issue?.path.join(".") || "binding"} ${issue?.message ?? ""}`.trim(),
    );
  }
  if (parsed.data.provider !== provider) {
    throw new InvalidRequestError(
      `The on-call binding is for ${PROVIDER_NAMES[parsed.data.provider]}, not ${PROVIDER_NAMES[provider]}`,
    );
  }
  return parsed.data;
}

/** Opsgenie incident ids are UUIDs in practice: letters, digits and dashes. */
const OPSGENIE_INCIDENT_ID = /^[A-Za-z0-9-]{1,64}$/;

/** An incident id as the provider writes it; anything else is refused before it reaches a URL. */
export function checkedIncidentId(incidentId: string, provider: OnCallProvider): string {
  const valid =
    provider === "pagerduty"
      ? pagerDutyId.safeParse(incidentId).success && incidentId.trim() === incidentId
      : OPSGENIE_INCIDENT_ID.test(incidentId);
  if (!valid) throw new InvalidRequestError(`That is not a ${PROVIDER_NAMES[provider]} incident id`);
  return incidentId;
}
