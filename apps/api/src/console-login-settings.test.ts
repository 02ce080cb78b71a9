import { parseConfig } from "@leasehold/config";
import { TEST_CONFIG } from "@leasehold/test-kit";
import { describe, expect, it } from "vitest";
import { consoleLoginSettings } from "./console-login-settings.js";

const withLogin = (extra = "") =>
  parseConfig(
    `${extra}${TEST_CONFIG}`
      .replaceAll("{issuer}", "https://idp.example.com")
      .replace(
        "    audience: leasehold\n",
        "    audience: leasehold\n    login: { clientId: console, clientSecretEnv: CONSOLE_SECRET }\n",
      ),
    "test.yaml",
  );

describe("the console's sign-in settings in production", () => {
  it("reads the client secret from the variable login.clientSecretEnv names", () => {
    const settings = consoleLoginSettings(withLogin("publicUrl: https://leasehold.example.com\n"), {
      CONSOLE_SECRET: "s3cret",
    });
    expect(settings.publicUrl).toBe("https://leasehold.example.com");
    expect(settings.login?.clientSecret).toBe("s3cret");
    expect(settings.login?.provider.name).toBe("corp");
  });

  it("stops when the secret's variable is unset, naming the variable and not a value", () => {
    expect(() => consoleLoginSettings(withLogin("publicUrl: https://leasehold.example.com\n"), {})).toThrow(
      /CONSOLE_SECRET is not set/,
    );
  });

  it("stops when a provider has login but publicUrl is missing", () => {
    expect(() => consoleLoginSettings(withLogin(), { CONSOLE_SECRET: "s3cret" })).toThrow(
      /publicUrl is required/,
    );
  });

  it("has no sign-in when no provider has login", () => {
    const config = parseConfig(TEST_CONFIG.replaceAll("{issuer}", "https://idp.example.com"), "test.yaml");
    expect(consoleLoginSettings(config, {}).login).toBeUndefined();
  });
});
