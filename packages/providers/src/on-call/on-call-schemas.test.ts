import { describe, expect, it } from "vitest";
import { onCallBindingSchema, onCallSettingsSchema } from "./on-call-schemas.js";
import { OnCallUnavailableError } from "./on-call-source.js";
import { createOnCallSourceFromSettings, pagerDutyWebhookSecrets } from "./on-call-sources.js";

describe("onCallSettingsSchema", () => {
  it("fills the real services' URLs and the default variable names", () => {
    expect(onCallSettingsSchema.parse({ pagerduty: {}, opsgenie: {} })).toEqual({
      pagerduty: {
        apiUrl: "https://api.pagerduty.com",
        tokenEnv: "PAGERDUTY_API_TOKEN",
        tokenType: "token",
        timeoutMs: 5000,
      },
      opsgenie: { apiUrl: "https://api.opsgenie.com", apiKeyEnv: "OPSGENIE_API_KEY", timeoutMs: 5000 },
    });
  });

  it("refuses a secret in the file, plain HTTP to another host, and bad variable names", () => {
    expect(onCallSettingsSchema.safeParse({ pagerduty: { token: "abc" } }).success).toBe(false);
    expect(
      onCallSettingsSchema.safeParse({ pagerduty: { apiUrl: "http://api.pagerduty.com" } }).success,
    ).toBe(false);
    expect(onCallSettingsSchema.safeParse({ opsgenie: { apiKeyEnv: "lower-case" } }).success).toBe(false);
    expect(onCallSettingsSchema.safeParse({ opsgenie: { timeoutMs: 60_000 } }).success).toBe(false);
    const local = onCallSettingsSchema.parse({ opsgenie: { apiUrl: "http://127.0.0.1:8123/" } });
    expect(local.opsgenie?.apiUrl).toBe("http://127.0.0.1:8123");
  });
});

describe("onCallBindingSchema", () => {
  it("takes PagerDuty ids and Opsgenie schedule names", () => {
    expect(
      onCallBindingSchema.parse({ provider: "pagerduty", service: "PSVC123", schedules: ["PEP0001"] }),
    ).toEqual({ provider: "pagerduty", service: "PSVC123", schedules: ["PEP0001"] });
    expect(
      onCallBindingSchema.parse({ provider: "opsgenie", service: "9f1c-22", schedules: ["API primary"] }),
    ).toMatchObject({ schedules: ["API primary"] });
    expect(onCallBindingSchema.parse({ provider: "opsgenie", service: "9f1c-22" }).schedules).toEqual([]);
  });

  it("refuses unknown providers, ids that could change a URL, and too many schedules", () => {
    const refused = [
      { provider: "victorops", service: "x", schedules: [] },
      { provider: "pagerduty", service: "PSVC/../x", schedules: [] },
      { provider: "pagerduty", service: "PSVC", schedules: ["PEP 1"] },
      { provider: "opsgenie", service: "svc", schedules: ["a/b"] },
      { provider: "opsgenie", service: "svc", schedules: Array.from({ length: 21 }, (_, i) => `s${i}`) },
      { provider: "pagerduty", service: "PSVC", schedules: [], extra: true },
    ];
    for (const binding of refused) expect(onCallBindingSchema.safeParse(binding).success).toBe(false);
  });
});

describe("createOnCallSourceFromSettings", () => {
  it("says which variable to set when a provider's secret is missing", () => {
    const settings = onCallSettingsSchema.parse({ pagerduty: {} });
    expect(() => createOnCallSourceFromSettings(settings, {})).toThrow(
      "Set PAGERDUTY_API_TOKEN (named by onCall.pagerduty.tokenEnv)",
    );
    const withWebhooks = onCallSettingsSchema.parse({
      pagerduty: { webhookSecretsEnv: "PD_WEBHOOK_SECRETS" },
    });
    expect(() => pagerDutyWebhookSecrets(withWebhooks, { PD_WEBHOOK_SECRETS: " " })).toThrow(
      "Set PD_WEBHOOK_SECRETS",
    );
    expect(pagerDutyWebhookSecrets(withWebhooks, { PD_WEBHOOK_SECRETS: "a,b" })).toEqual(["a", "b"]);
    expect(pagerDutyWebhookSecrets(settings, {})).toEqual([]);
  });

  it("reports a binding to a provider that is not configured as unavailable", async () => {
    const source = createOnCallSourceFromSettings(onCallSettingsSchema.parse({ pagerduty: {} }), {
      PAGERDUTY_API_TOKEN: "t",
    });
    const binding = { provider: "opsgenie" as const, service: "svc", schedules: ["api"] };
    await expect(source.status("al@example.com", binding, new Date())).rejects.toBeInstanceOf(
      OnCallUnavailableError,
    );
  });
});
