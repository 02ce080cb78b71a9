import { z } from "zod";

/*
 * A target's binding to the on-call service behind it (PagerDuty or Opsgenie): what on-call
 * auto-approval asks about. Defined here, beside the target it belongs to; the clients that ask live in
 * the providers (packages/providers/src/on-call).
 */

/** PagerDuty object ids (`PABC123`): letters and digits. */
export const pagerDutyId = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9]{1,64}$/, "is a PagerDuty id of letters and digits, like PABC123");

/** Opsgenie ids are UUIDs in practice; accepted as letters, digits and dashes. */
const opsgenieId = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9-]{1,64}$/, "is an Opsgenie id of letters, digits and dashes");

/** An Opsgenie schedule name: printable, no slash (it travels in the URL path). */
const opsgenieScheduleName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[^/\p{Cc}]+$/u, "is an Opsgenie schedule name without slashes or control characters");

/**
 * A target's on-call binding:
 * - PagerDuty: `service` is the service id; `schedules` are **escalation policy ids** (a person on call at
 *   any level of one of them counts as on call).
 * - Opsgenie: `service` is the service id incidents name in `impactedServices`; `schedules` are
 *   **schedule names**.
 * An empty `schedules` list means only incidents can auto-approve.
 */
export const onCallBindingSchema = z.discriminatedUnion("provider", [
  z
    .object({
      provider: z.literal("pagerduty"),
      service: pagerDutyId,
      schedules: z.array(pagerDutyId).max(20).default([]),
    })
    .strict(),
  z
    .object({
      provider: z.literal("opsgenie"),
      service: opsgenieId,
      schedules: z.array(opsgenieScheduleName).max(20).default([]),
    })
    .strict(),
]);

export type OnCallProvider = "pagerduty" | "opsgenie";
/** Per target; see onCallBindingSchema for what `service` and `schedules` name at each provider. */
export type OnCallBinding = { provider: OnCallProvider; service: string; schedules: readonly string[] };

// The schema's output must stay usable wherever a binding is expected.
const _bindingOutput: (value: z.output<typeof onCallBindingSchema>) => OnCallBinding = (value) => value;
void _bindingOutput;
