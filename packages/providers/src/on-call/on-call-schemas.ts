import { envVarNameSchema, outboundUrlSchema } from "@leasehold/domain";
import { z } from "zod";

export { type OnCallBinding, type OnCallProvider, onCallBindingSchema, pagerDutyId } from "@leasehold/domain";

/**
 * The on-call settings of leasehold.yaml (the global `onCall:` block) and a target's binding to a
 * PagerDuty or Opsgenie service. Secrets never live in the YAML: the block names the environment
 * variables that hold them.
 */

const envName = envVarNameSchema;

/**
 * An API base URL: HTTPS (both services refuse plain HTTP), or HTTP to a loopback address for a local
 * stand-in. Kept without a trailing slash so paths join cleanly.
 */
const apiUrl = outboundUrlSchema.transform((value) => value.replace(/\/+$/, ""));

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
