import type { OnCallSettings } from "./on-call-schemas.js";
import { createOnCallRouter, type OnCallSource } from "./on-call-source.js";
import { createOpsgenieSource } from "./opsgenie-source.js";
import { createPagerDutySource } from "./pagerduty-source.js";
import { parseWebhookSecrets } from "./pagerduty-webhook.js";

/** The environment as the app's env.ts hands it over; nothing here reads process.env itself. */
export type OnCallEnvironment = Readonly<Record<string, string | undefined>>;

const secretFrom = (env: OnCallEnvironment, name: string, setting: string): string => {
  const value = env[name]?.trim();
  if (value === undefined || value === "") throw new Error(`Set ${name} (named by ${setting})`);
  return value;
};

/**
 * The on-call port for leasehold.yaml's `onCall:` block, with each provider's secret read from the
 * variable the block names. A provider without a block is reported unavailable when a binding names it.
 */
export function createOnCallSourceFromSettings(
  settings: OnCallSettings,
  env: OnCallEnvironment,
): OnCallSource {
  const { pagerduty, opsgenie } = settings;
  return createOnCallRouter({
    ...(pagerduty === undefined
      ? {}
      : {
          pagerduty: createPagerDutySource({
            apiUrl: pagerduty.apiUrl,
            token: secretFrom(env, pagerduty.tokenEnv, "onCall.pagerduty.tokenEnv"),
            tokenType: pagerduty.tokenType,
            timeoutMs: pagerduty.timeoutMs,
          }),
        }),
    ...(opsgenie === undefined
      ? {}
      : {
          opsgenie: createOpsgenieSource({
            apiUrl: opsgenie.apiUrl,
            apiKey: secretFrom(env, opsgenie.apiKeyEnv, "onCall.opsgenie.apiKeyEnv"),
            timeoutMs: opsgenie.timeoutMs,
          }),
        }),
  });
}

/**
 * The PagerDuty webhook secrets, or [] when webhooks are not configured (incidents are then polled).
 * A named variable that is unset or empty stops the process: a silent [] would reject every webhook.
 */
export function pagerDutyWebhookSecrets(settings: OnCallSettings, env: OnCallEnvironment): string[] {
  const name = settings.pagerduty?.webhookSecretsEnv;
  if (name === undefined) return [];
  return parseWebhookSecrets(secretFrom(env, name, "onCall.pagerduty.webhookSecretsEnv"));
}
