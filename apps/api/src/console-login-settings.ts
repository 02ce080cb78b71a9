import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError, type LeaseholdConfig } from "@leasehold/config";

/**
 * Where the built console is, relative to this module: beside the app in its container image
 * (/app/console, copied there by infra/Dockerfile), or in the repository (apps/console/dist, from
 * apps/api/src with tsx or apps/api/dist when built).
 */
const CONSOLE_DIRS = ["../console", "../../console/dist"];

/**
 * The console's sign-in as leasehold.yaml and the environment set it: the provider with `login`
 * (its client secret read from the variable `login.clientSecretEnv` names; a missing one, or a missing
 * publicUrl, stops the API), the public URL, and the built console next to this app when it was built.
 */
export function consoleLoginSettings(config: LeaseholdConfig, env: NodeJS.ProcessEnv) {
  const provider = config.identityProviders.find((p) => p.login !== undefined);
  const secretEnv = provider?.login?.clientSecretEnv;
  const clientSecret = secretEnv === undefined ? undefined : env[secretEnv];
  if (secretEnv !== undefined && !clientSecret) {
    throw new ConfigError("the environment", [
      `${secretEnv} is not set: it holds the console client's secret (identityProviders.login.clientSecretEnv)`,
    ]);
  }
  // The redirect URI registered at the IdP is `<publicUrl>/auth/callback`: a listen address such as
  // 0.0.0.0:3000 is no URL a browser can be sent back to.
  if (provider && config.publicUrl === undefined) {
    throw new ConfigError("leasehold.yaml", [
      "publicUrl is required when an identity provider has login (the console's redirect URI is built from it)",
    ]);
  }
  return {
    publicUrl: config.publicUrl,
    login: provider ? { provider, clientSecret } : undefined,
    consoleDir: CONSOLE_DIRS.map((dir) => fileURLToPath(new URL(dir, import.meta.url))).find((dir) =>
      existsSync(`${dir}/index.html`),
    ),
    targets: config.targets,
  };
}
