import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { UpstreamError } from "@leasehold/domain";
import { toAwsError } from "../aws-sts/aws-errors.js";
import { parseSecretValue, type SecretStore, type SecretValue } from "./secret-store.js";

const CURRENT = "AWSCURRENT";
const PENDING = "AWSPENDING";
const PREVIOUS = "AWSPREVIOUS";

/** A Secrets Manager secret also keeps the value current before the last rotation (AWSPREVIOUS). */
export type SecretsManagerStore = SecretStore & {
  /** The AWSPREVIOUS version's value; undefined before the secret's first rotation. */
  readPrevious(): Promise<SecretValue | undefined>;
};

/**
 * An AWS Secrets Manager secret, rotated with its own four-step protocol: the new value is staged as
 * AWSPENDING under the run's ClientRequestToken, and finishing moves AWSCURRENT to it (the old value
 * becomes AWSPREVIOUS). A failed run leaves AWSCURRENT where it was.
 */
export function secretsManagerStore(client: SecretsManagerClient, secretId: string): SecretsManagerStore {
  const call = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw toAwsError(error, `Secrets Manager ${what} on ${secretId}`);
    }
  };
  const currentVersion = async () => {
    const described = await call("DescribeSecret", () =>
      client.send(new DescribeSecretCommand({ SecretId: secretId })),
    );
    const entry = Object.entries(described.VersionIdsToStages ?? {}).find(([, stages]) =>
      stages.includes(CURRENT),
    );
    if (!entry)
      throw new UpstreamError(`Secrets Manager secret ${secretId} has no AWSCURRENT version`, {
        retryable: false,
      });
    return entry[0];
  };

  /** A version by id or stage; undefined when the secret has no such version. */
  const readVersion = async (version: { VersionId: string } | { VersionStage: string }, where: string) => {
    try {
      const out = await client.send(new GetSecretValueCommand({ SecretId: secretId, ...version }));
      return parseSecretValue(out.SecretString, where);
    } catch (error) {
      if ((error as Error).name === "ResourceNotFoundException") return undefined;
      throw toAwsError(error, `Secrets Manager GetSecretValue on ${secretId}`);
    }
  };

  return {
    async readCurrent() {
      const out = await call("GetSecretValue", () =>
        client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: CURRENT })),
      );
      return {
        version: out.VersionId ?? "",
        value: parseSecretValue(out.SecretString, `secret ${secretId}`),
      };
    },

    readPending: (token) => readVersion({ VersionId: token }, `pending version of ${secretId}`),

    readPrevious: () => readVersion({ VersionStage: PREVIOUS }, `previous version of ${secretId}`),

    async stagePending(token, value) {
      // Same token and same value is a no-op; the value for a token never changes (the run keeps it).
      await call("PutSecretValue", () =>
        client.send(
          new PutSecretValueCommand({
            SecretId: secretId,
            ClientRequestToken: token,
            SecretString: JSON.stringify(value),
            VersionStages: [PENDING],
          }),
        ),
      );
    },

    async promote(token, _value, baseVersion) {
      const current = await currentVersion();
      if (current === token) return;
      if (current !== baseVersion) {
        throw new UpstreamError(`secret ${secretId} changed while it was being rotated; not promoting`, {
          retryable: false,
        });
      }
      await call("UpdateSecretVersionStage", () =>
        client.send(
          new UpdateSecretVersionStageCommand({
            SecretId: secretId,
            VersionStage: CURRENT,
            MoveToVersionId: token,
            RemoveFromVersionId: current,
          }),
        ),
      );
    },

    isCurrent: async (token: string, _value: SecretValue) => (await currentVersion()) === token,
  };
}
