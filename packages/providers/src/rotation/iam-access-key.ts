import {
  type AccessKeyMetadata,
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  type IAMClient,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
} from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, type STSClient } from "@aws-sdk/client-sts";
import { isDomainError, UpstreamError } from "@leasehold/domain";
import { toAwsError } from "../aws-sts/aws-errors.js";
import type { RotatedCredential, RotationCheck } from "./rotated-credential.js";
import { failedCheck } from "./rotation-checks.js";
import { requireFields, type SecretValue } from "./secret-store.js";
import type { SecretsManagerStore } from "./secrets-manager-store.js";

/** The IAM user whose access key a rotation replaces (name validated by the rotation schema). */
export type RotatedIamUser = { readonly userName: string };

type AccessKeyPair = { readonly accessKeyId: string; readonly secretAccessKey: string };

export type IamAccessKeyDeps = {
  readonly iam: IAMClient;
  /** An STS client that signs with the given key. */
  readonly stsWith: (key: AccessKeyPair) => STSClient;
  /** The secret's AWSPREVIOUS version: its key is the one Leasehold deactivated at the last run. */
  readonly secret: Pick<SecretsManagerStore, "readPrevious">;
  /** Waits between tries of a brand-new key; the real timer unless a test passes another. */
  readonly sleep?: (ms: number) => Promise<void>;
};

/**
 * IAM propagates a new key in seconds (AWS confirmed ~15 s in aws/aws-sdk-js#559; Vault's AWS engine
 * warns of "5-10 seconds (or more)"; no bound is published). "test" tries the key this many times,
 * this far apart, then fails retryably, so the worker's attempts bound the whole wait.
 */
const PROPAGATION_TRIES = 6;
const PROPAGATION_WAIT_MS = 3000;

const FIELDS = ["accessKeyId", "secretAccessKey"] as const;

const refusal = (message: string) => new UpstreamError(message, { retryable: false });

/** Whether the SDK error is this IAM or STS code (the SDK appends "Exception" to modelled IAM codes). */
const isCode = (error: unknown, code: string) => {
  const name = (error as Error)?.name;
  return name === code || name === `${code}Exception`;
};

/** The key's user name from a user ARN (`arn:aws:iam::<account>:user/<path/>name`), or undefined. */
const userNameOf = (arn: string | undefined) =>
  /^arn:aws[a-z-]*:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(arn ?? "")?.[1];

/**
 * Which of the user's keys a run deletes before creating one, or why it cannot run. A user may hold
 * two keys. Besides the current one, Leasehold deletes only a key it managed: the previous value's
 * key once it is Inactive (deactivated by the last run: this is the "delete later"), or a key made by
 * this very run whose secret was lost in a crash before it was sealed (neither current nor previous,
 * created at or after the run started; CreateDate has whole seconds). Anything else is someone's key.
 */
export function planNewKey(
  userName: string,
  keys: readonly AccessKeyMetadata[],
  current: { accessKeyId: string; previousKeyId: string | undefined; runStartedAt?: Date },
): { remove: string[] } {
  const since = current.runStartedAt && Math.floor(current.runStartedAt.getTime() / 1000) * 1000;
  const others = keys.filter((key) => key.AccessKeyId !== current.accessKeyId);
  const ours = (key: AccessKeyMetadata) =>
    key.AccessKeyId === current.previousKeyId
      ? key.Status === "Inactive"
      : since !== undefined && (key.CreateDate?.getTime() ?? 0) >= since;
  const remove = others.filter(ours).map((key) => key.AccessKeyId ?? "");
  if (keys.length - remove.length < 2) return { remove };
  const activePrevious = others.find((key) => key.AccessKeyId === current.previousKeyId);
  if (activePrevious) {
    throw refusal(
      `IAM user ${userName}'s previous access key ${current.previousKeyId} is still Active; deactivate or delete it, then rotate again`,
    );
  }
  throw refusal(
    `IAM user ${userName} already has two access keys and neither is managed by Leasehold; delete one`,
  );
}

/**
 * An IAM user's access key (the static key a third-party tool still needs), rotated as AWS documents:
 * create a second key, make it current once it works, deactivate the old one, delete it at the next
 * run. "create" makes the key (its secret is returned only then), "set" has nothing left to do, "test"
 * signs GetCallerIdentity with it, "finish" deactivates the previous key; undo deletes the new one.
 * Needs iam:ListAccessKeys, iam:CreateAccessKey, iam:UpdateAccessKey and iam:DeleteAccessKey on the user.
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a factory whose six short methods share the calls it closes over.
export function rotatedIamAccessKey(deps: IamAccessKeyDeps, user: RotatedIamUser): RotatedCredential {
  const { iam, secret } = deps;
  const { userName } = user;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const where = `the secret of IAM user ${userName}`;
  const keyOf = (value: SecretValue) => requireFields(value, FIELDS, where);
  const call = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw toAwsError(error, `IAM ${what} for user ${userName}`);
    }
  };
  const listKeys = () =>
    call("ListAccessKeys", () => iam.send(new ListAccessKeysCommand({ UserName: userName }))).then(
      (out) => out.AccessKeyMetadata ?? [],
    );
  /** Deletes a key; one already gone is what was wanted. */
  const deleteKey = async (accessKeyId: string) => {
    try {
      await iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId }));
    } catch (error) {
      if (!isCode(error, "NoSuchEntity")) throw toAwsError(error, `IAM DeleteAccessKey for user ${userName}`);
    }
  };
  const createKey = async (): Promise<AccessKeyPair> => {
    try {
      const out = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
      const accessKeyId = out.AccessKey?.AccessKeyId;
      const secretAccessKey = out.AccessKey?.SecretAccessKey;
      if (!accessKeyId || !secretAccessKey)
        throw refusal(`IAM CreateAccessKey for user ${userName} returned no key`);
      return { accessKeyId, secretAccessKey };
    } catch (error) {
      // Someone made a key since the listing: the next try lists again and decides afresh.
      if (isCode(error, "LimitExceeded")) {
        throw new UpstreamError(
          `IAM user ${userName} reached two access keys while rotating; will list them again`,
          {
            retryable: true,
          },
        );
      }
      throw toAwsError(error, `IAM CreateAccessKey for user ${userName}`);
    }
  };
  /** The user name the key signs as, through GetCallerIdentity. */
  const signsAs = async (key: AccessKeyPair) => {
    const identity = await deps.stsWith(key).send(new GetCallerIdentityCommand({}));
    return userNameOf(identity.Arn);
  };
  const previousKeyId = async () => (await secret.readPrevious())?.accessKeyId;

  return {
    async next(current, _token, runStartedAt) {
      const { accessKeyId } = keyOf(current);
      const plan = planNewKey(userName, await listKeys(), {
        accessKeyId,
        previousKeyId: await previousKeyId(),
        ...(runStartedAt ? { runStartedAt } : {}),
      });
      for (const id of plan.remove) await deleteKey(id);
      return { ...current, ...(await createKey()) };
    },
    set: async () => undefined,
    async test(next) {
      const key = keyOf(next);
      for (let attempt = 1; ; attempt += 1) {
        try {
          const name = await signsAs(key);
          if (name !== userName) {
            throw refusal(
              `the new access key signs as ${name ?? "something other than a user"}, not as IAM user ${userName}`,
            );
          }
          return;
        } catch (error) {
          if (isDomainError(error)) throw error;
          // A brand-new key is refused until IAM has propagated it.
          if (!isCode(error, "InvalidClientTokenId"))
            throw toAwsError(error, "STS GetCallerIdentity with the new key");
          if (attempt >= PROPAGATION_TRIES) {
            throw new UpstreamError(
              `the new access key of IAM user ${userName} is not accepted yet; will retry`,
              {
                retryable: true,
              },
            );
          }
          await sleep(PROPAGATION_WAIT_MS);
        }
      }
    },
    async retire(previous, next) {
      const old = keyOf(previous).accessKeyId;
      if (old === keyOf(next).accessKeyId) return;
      try {
        await iam.send(
          new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: old, Status: "Inactive" }),
        );
      } catch (error) {
        if (!isCode(error, "NoSuchEntity"))
          throw toAwsError(error, `IAM UpdateAccessKey for user ${userName}`);
      }
    },
    async undo(previous, next) {
      const made = keyOf(next).accessKeyId;
      if (made !== keyOf(previous).accessKeyId) await deleteKey(made);
    },
    check: async (current) => checks({ userName, key: keyOf(current), listKeys, signsAs, previousKeyId }),
  };
}

type CheckInputs = {
  userName: string;
  key: AccessKeyPair;
  listKeys: () => Promise<AccessKeyMetadata[]>;
  signsAs: (key: AccessKeyPair) => Promise<string | undefined>;
  previousKeyId: () => Promise<string | undefined>;
};

/** A dry run's findings: the user and its keys, the current key working, and whether a run could go ahead. */
async function checks({
  userName,
  key,
  listKeys,
  signsAs,
  previousKeyId,
}: CheckInputs): Promise<RotationCheck[]> {
  const found = (check: string, ok: boolean, detail = ""): RotationCheck => ({ check, ok, detail });
  const findings: RotationCheck[] = [];
  let keys: AccessKeyMetadata[] | undefined;
  try {
    keys = await listKeys();
    findings.push(found(`IAM user ${userName} exists`, true, `${keys.length} access key(s)`));
  } catch (error) {
    findings.push(failedCheck(`IAM user ${userName} exists`, error));
  }
  try {
    const name = await signsAs(key);
    findings.push(
      found(
        "the current access key works",
        name === userName,
        name === userName ? "" : `it signs as ${name}`,
      ),
    );
  } catch (error) {
    findings.push(failedCheck("the current access key works", toAwsError(error, "STS GetCallerIdentity")));
  }
  if (keys === undefined) return findings;
  findings.push(
    found(
      "the secret's key is one of the user's keys",
      keys.some((listed) => listed.AccessKeyId === key.accessKeyId),
    ),
  );
  try {
    const plan = planNewKey(userName, keys, {
      accessKeyId: key.accessKeyId,
      previousKeyId: await previousKeyId(),
    });
    const detail =
      plan.remove.length > 0 ? `the run deletes the previous key ${plan.remove.join(", ")} first` : "";
    findings.push(found("a run can create a new access key", true, detail));
  } catch (error) {
    findings.push(failedCheck("a run can create a new access key", error));
  }
  return findings;
}
