import { z } from "zod";

/**
 * The on-call settings of leasehold.yaml (the global `onCall:` block) and a target's binding to a
 * PagerDuty or Opsgenie service. Secrets never live in the YAML: the block names the environment
 * variables that hold them.
 */

/** An environment variable's name, such as `PAGERDUTY_API_TOKEN`. */
const envName = z
  .string()
  .trim()
  .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, "is the name of an environment variable, like PAGERDUTY_API_TOKEN");

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * An API base URL: HTTPS (both services refuse plain HTTP), or HTTP to a loopback address for a local
 * stand-in. Kept without a trailing slash so paths join cleanly.
 */
const apiUrl = z
  .string()
  .trim()
  .max(2048)
  .url()
  .refine((value) => {
    const url = new URL(value);
    return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
  }, "must be https:// (http:// only to 127.0.0.1, localhost or [::1])")
  .refine(
    (value) => new URL(value).search === "" && new URL(value).hash === "",
    "must have no query or fragment",
  )
  .transform((value) => value.replace(/\/+$/, ""));

/** Milliseconds to wait for one answer before the provider counts as unavailable. */
const timeoutMs = z.number().int().min(100).max(30_000).default(5_000);

export const pagerDutySettingsSchema = z
  .object({
    apiUrl: apiUrl.default("https://api.pagerduty.com"),
    /** The variable holding the REST API key (or an OAuth token when `tokenType` is `bearer`). */
    tokenEnv: envName.default("PAGERDUTY_API_TOKEN"),
    /** `token` → `Authorization: Token token=…` (an API key); `bearer` → `Authorization: Bearer …` (OAuth). */
    tokenType: z.enum(["token", "bearer"]).default("token"),
    /**
     * The variable holding the Webhooks v3 subscription secrets, comma separated (two during a
     * rotation). Unset: webhooks are not accepted and incidents are only polled.
     */
    webhookSecretsEnv: envName.optional(),
    timeoutMs,
  })
  .strict();
export type PagerDutySettings = z.output<typeof pagerDutySettingsSchema>;

export const opsgenieSettingsSchema = z
  .object({
    /** `https://api.eu.opsgenie.com` for the EU instance. */
    apiUrl: apiUrl.default("https://api.opsgenie.com"),
    /** The variable holding the key of an Opsgenie API integration. */
    apiKeyEnv: envName.default("OPSGENIE_API_KEY"),
    timeoutMs,
  })
  .strict();
export type OpsgenieSettings = z.output<typeof opsgenieSettingsSchema>;

/** The global `onCall:` block; a provider left out cannot be named by a target's binding. */
export const onCallSettingsSchema = z
  .object({
    pagerduty: pagerDutySettingsSchema.optional(),
    opsgenie: opsgenieSettingsSchema.optional(),
  })
  .strict();
export type OnCallSettings = z.output<typeof onCallSettingsSchema>;

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
