import { createHash } from "node:crypto";
import { SECRETS_MANAGER_LIMITS } from "./secrets-manager-limits.js";
import { createSecret, type SecretsStore, type StoredSecret, secretKey } from "./secrets-manager-store.js";
import type { SandboxSecretConfig, SandboxSecretRecord } from "./secrets-manager-types.js";

/** The Secrets Manager stand-in's secrets as configured at start, and the snapshots its test hooks return. */

/**
 * The secrets configured at start, in SANDBOX_USER_ARN's account. Their ARN suffix and version id are
 * derived from account, region and name, so `reset()` brings back exactly the same secrets. Throws
 * (at start-up) for a secret CreateSecret would refuse.
 */
export function createConfiguredSecrets(
  configs: readonly SandboxSecretConfig[],
  account: string,
  now: Date,
): SecretsStore {
  const store: SecretsStore = new Map();
  for (const config of configs) {
    const { name, secretString } = config;
    const region = config.region ?? "us-east-1";
    const { name: nameRule, secretString: valueRule, description: descriptionRule } = SECRETS_MANAGER_LIMITS;
    if (name.length < nameRule.min || name.length > nameRule.max || !nameRule.pattern.test(name)) {
      throw new Error(`Sandbox secret "${name}": names are 1–512 characters of [A-Za-z0-9/_+=.@-]`);
    }
    if (secretString.length < valueRule.min || Buffer.byteLength(secretString) > valueRule.maxBytes) {
      throw new Error(`Sandbox secret "${name}": the value must be 1 character to 65,536 bytes`);
    }
    if ((config.description?.length ?? 0) > descriptionRule.max) {
      throw new Error(`Sandbox secret "${name}": the description must be at most 2048 characters`);
    }
    if (store.has(secretKey(account, region, name))) {
      throw new Error(`Sandbox secret "${name}" is configured twice in ${region}`);
    }
    const seed = createHash("sha256").update(`${account}:${region}:${name}`).digest();
    const hex = seed.toString("hex");
    const versionId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    createSecret(
      store,
      { account, partition: "aws", region },
      { name, secretString, description: config.description, clientRequestToken: versionId },
      now,
      seed.subarray(16),
    );
  }
  return store;
}

/** A snapshot of a secret for test assertions (nothing in it is live). */
export const secretRecord = (secret: StoredSecret): SandboxSecretRecord => ({
  arn: secret.arn,
  name: secret.name,
  region: secret.region,
  ...(secret.description === undefined ? {} : { description: secret.description }),
  versions: secret.versions.map((version) => ({
    versionId: version.versionId,
    stages: [...version.stages],
    secretString: version.secretString,
    createdDate: new Date(version.createdAt),
  })),
});

/** The secret named `name` (in `region`) across the store, for `sandbox.secret()`. */
export function uniqueSecretNamed(store: SecretsStore, name: string, region?: string): StoredSecret {
  const matches = [...store.values()].filter(
    (secret) => secret.name === name && (region === undefined || secret.region === region),
  );
  const [match, ...others] = matches;
  if (match === undefined) {
    throw new Error(
      `The sandbox has no secret named "${name}"${region === undefined ? "" : ` in ${region}`}`,
    );
  }
  if (others.length > 0) {
    throw new Error(
      `The sandbox has several secrets named "${name}" (${matches.map((secret) => secret.arn).join(", ")}); pass the region`,
    );
  }
  return match;
}
