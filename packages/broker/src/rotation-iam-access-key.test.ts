import { CreateAccessKeyCommand, UpdateAccessKeyCommand } from "@aws-sdk/client-iam";
import { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { UpstreamError } from "@leasehold/domain";
import {
  type CredentialProvider,
  createAwsClients,
  type RotatedCredential,
  rotatedIamAccessKey,
  type SecretStore,
  secretsManagerStore,
} from "@leasehold/providers";
import { type AwsSandbox, SANDBOX_ACCESS_KEY, startAwsSandbox } from "@leasehold/sandbox";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RotationSetup } from "./broker.js";
import { admin, createHarness, type Harness } from "./test-harness.js";

/**
 * Rotating an IAM user's access key held in Secrets Manager, on the AWS stand-in (which enforces two
 * keys per user, refuses Inactive and deleted keys, and delays a new key's use as IAM's propagation
 * does): a crash at every step is resumed, and at every moment the AWSCURRENT key works.
 */
const USER = "thirdparty-tool";
const USER_ARN = `arn:aws:iam::123456789012:user/${USER}`;
const INITIAL = {
  accessKeyId: "AKIDTHIRDPARTYTOOL01",
  secretAccessKey: "initial/secret/of/the/tool/key0000000000",
};
const SECRET_ID = "prod/thirdparty-tool/aws-key";
const BROKEN_SECRET_ID = "prod/thirdparty-tool/broken";
const noProvider = { kind: "sql" } as unknown as CredentialProvider;

type Key = { accessKeyId?: string; secretAccessKey?: string; region?: string };

describe("rotating an IAM user's access key held in Secrets Manager", () => {
  let offsetMs = 0;
  const awsNow = () => new Date(Date.now() + offsetMs);
  let aws: AwsSandbox;
  let clients: ReturnType<typeof createAwsClients>;
  let h: Harness;
  let failures: Map<string, number>;

  const maybeFail = (step: string) => {
    const left = failures.get(step) ?? 0;
    if (left > 0) {
      failures.set(step, left - 1);
      throw new UpstreamError(`injected crash at ${step}`, { retryable: true });
    }
  };
  const stage = async (
    versionStage: "AWSCURRENT" | "AWSPENDING" | "AWSPREVIOUS",
  ): Promise<Key | undefined> => {
    try {
      const out = await clients.secretsManager.send(
        new GetSecretValueCommand({ SecretId: SECRET_ID, VersionStage: versionStage }),
      );
      return JSON.parse(out.SecretString ?? "{}") as Key;
    } catch {
      return undefined;
    }
  };
  /** Whether the AWSCURRENT key signs GetCallerIdentity as the user right now. */
  const currentKeyWorks = async () => {
    const key = await stage("AWSCURRENT");
    try {
      const sts = clients.stsWith({
        accessKeyId: key?.accessKeyId ?? "",
        secretAccessKey: key?.secretAccessKey ?? "",
      });
      return (await sts.send(new GetCallerIdentityCommand({}))).Arn === USER_ARN;
    } catch {
      return false;
    }
  };
  const keys = () => aws.accessKeys(USER).map((key) => [key.accessKeyId, key.status]);
  /** Starts a run at the stand-in's time, as a worker would see it. */
  const start = (rotationId: string, key: string) => {
    h.clock.now = awsNow();
    return h.broker.rotations.start(rotationId, { key, by: "test" });
  };
  const rotateOnce = async (key: string) => {
    const run = await start("tool-key", key);
    expect(await h.broker.rotations.execute(run.id, { isLast: false })).toBe("succeeded");
    return run;
  };

  beforeAll(async () => {
    aws = await startAwsSandbox({
      roles: [],
      users: [{ name: USER, accessKeys: [INITIAL] }],
      secrets: [
        { name: SECRET_ID, secretString: JSON.stringify({ ...INITIAL, region: "us-east-1" }) },
        { name: BROKEN_SECRET_ID, secretString: JSON.stringify({ accessKeyId: INITIAL.accessKeyId }) },
      ],
      clock: awsNow,
      // A new key works only 5 s after it was made; "test" waits for it (its waits move this clock).
      accessKeyActivationSeconds: 5,
    });
    clients = createAwsClients({
      region: "us-east-1",
      endpoint: aws.url,
      credentials: SANDBOX_ACCESS_KEY,
      maxAttempts: 1,
    });
    const credentialFor = (secretId: string): RotatedCredential => {
      const key = rotatedIamAccessKey(
        {
          iam: clients.iam,
          stsWith: clients.stsWith,
          secret: secretsManagerStore(clients.secretsManager, secretId),
          sleep: async (ms) => {
            offsetMs += ms;
          },
        },
        { userName: USER },
      );
      return {
        ...key,
        next: async (current, token, startedAt) => {
          const made = await key.next(current, token, startedAt);
          // The key exists upstream, and its secret is lost with this process: the worst crash.
          maybeFail("after CreateAccessKey before sealing");
          return made;
        },
        set: async (next) => {
          await key.set(next);
          maybeFail("after set");
        },
        test: async (next) => {
          await key.test(next);
          maybeFail("after test");
        },
        retire: async (previous, next) => {
          await key.retire(previous, next);
          maybeFail("after retire");
        },
      };
    };
    const storeFor = (secretId: string): SecretStore => {
      const store = secretsManagerStore(clients.secretsManager, secretId);
      return {
        ...store,
        stagePending: async (token, value) => {
          await store.stagePending(token, value);
          maybeFail("after create");
        },
        promote: async (token, value, base) => {
          await store.promote(token, value, base);
          maybeFail("after promote before retire");
        },
      };
    };
    const setup: RotationSetup = {
      rotations: new Map(
        [
          ["tool-key", SECRET_ID],
          ["broken-key", BROKEN_SECRET_ID],
        ].map(([id = "", secretId = ""]) => [
          id,
          {
            config: {
              id,
              description: "",
              secret: { awsSecretsManager: { secretId } },
              schedule: { cron: "0 3 * * *", jitterSeconds: 0 },
            },
            secret: storeFor(secretId),
            credential: credentialFor(secretId),
          },
        ]),
      ),
      enqueueRun: async () => {},
    };
    h = await createHarness("pglite", noProvider, { targets: [], rotation: setup });
  });
  beforeEach(() => {
    failures = new Map();
    offsetMs = 0;
    aws.reset();
  });
  afterAll(async () => {
    await h.close();
    await aws.close();
  });

  it("makes a new key current that signs as the user and deactivates the old one; the next run deletes it", async () => {
    await rotateOnce("first");
    const first = await stage("AWSCURRENT");
    expect(first?.accessKeyId).not.toBe(INITIAL.accessKeyId);
    expect(first?.region).toBe("us-east-1");
    expect(await currentKeyWorks()).toBe(true);
    expect((await stage("AWSPREVIOUS"))?.accessKeyId).toBe(INITIAL.accessKeyId);
    expect(keys()).toEqual([
      [INITIAL.accessKeyId, "Inactive"],
      [first?.accessKeyId, "Active"],
    ]);

    await rotateOnce("second");
    const second = await stage("AWSCURRENT");
    expect(await currentKeyWorks()).toBe(true);
    expect(keys()).toEqual([
      [first?.accessKeyId, "Inactive"],
      [second?.accessKeyId, "Active"],
    ]);
    const trail = JSON.stringify(await h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 500 })));
    for (const secret of [first?.secretAccessKey, second?.secretAccessKey, INITIAL.secretAccessKey]) {
      expect(trail).not.toContain(secret);
    }
  });

  it.each([
    "after CreateAccessKey before sealing",
    "after create",
    "after set",
    "after test",
    "after promote before retire",
    "after retire",
  ])("a crash %s is resumed, and the AWSCURRENT key works at every moment", async (step) => {
    await rotateOnce(`before-${step}`);
    const before = await stage("AWSCURRENT");
    failures.set(step, 1);
    const run = await start("tool-key", `crash-${step}`);
    expect(await currentKeyWorks()).toBe(true);
    await expect(h.broker.rotations.execute(run.id, { isLast: false })).rejects.toThrow(/injected crash/);
    expect(await currentKeyWorks()).toBe(true);
    expect(aws.accessKeys(USER).length).toBeLessThanOrEqual(2);
    expect(await h.broker.rotations.execute(run.id, { isLast: false })).toBe("succeeded");
    expect(await currentKeyWorks()).toBe(true);
    const after = await stage("AWSCURRENT");
    expect(after?.accessKeyId).not.toBe(before?.accessKeyId);
    // Exactly the previous key, deactivated, and the new one: a key lost in the crash was deleted.
    expect(keys()).toEqual([
      [before?.accessKeyId, "Inactive"],
      [after?.accessKeyId, "Active"],
    ]);
    expect(aws.secret(SECRET_ID).versions.filter((v) => v.versionId === run.id)).toHaveLength(1);
  });

  it("a run that fails after its key worked deletes that key and leaves the current one working", async () => {
    failures.set("after test", 1);
    const run = await start("tool-key", "fails");
    await expect(h.broker.rotations.execute(run.id, { isLast: true })).rejects.toThrow(/injected crash/);
    expect((await h.deps.store.read((r) => r.rotations.findById(run.id)))?.state).toBe("failed");
    expect((await stage("AWSCURRENT"))?.accessKeyId).toBe(INITIAL.accessKeyId);
    expect(await currentKeyWorks()).toBe(true);
    expect(keys()).toEqual([[INITIAL.accessKeyId, "Active"]]);
  });

  it("a run that gives up before its key was tested deletes that key", async () => {
    failures.set("after create", 1);
    const run = await start("tool-key", "gives-up-at-create");
    await expect(h.broker.rotations.execute(run.id, { isLast: true })).rejects.toThrow(/injected crash/);
    expect((await h.deps.store.read((r) => r.rotations.findById(run.id)))?.state).toBe("failed");
    expect(keys()).toEqual([[INITIAL.accessKeyId, "Active"]]);
    expect((await stage("AWSCURRENT"))?.accessKeyId).toBe(INITIAL.accessKeyId);
  });

  it("a user at two keys with the other not Leasehold's is refused at dry run and at run, and nothing changes", async () => {
    const foreign = await clients.iam.send(new CreateAccessKeyCommand({ UserName: USER }));
    offsetMs += 5000;
    const before = { keys: keys(), versions: aws.secret(SECRET_ID).versions };
    const message = `IAM user ${USER} already has two access keys and neither is managed by Leasehold; delete one`;
    const plan = await h.broker.rotations.dryRun(admin, "tool-key");
    expect(plan.ok).toBe(false);
    expect(plan.checks).toContainEqual({
      check: "a run can create a new access key",
      ok: false,
      detail: message,
    });
    const run = await start("tool-key", "two-keys");
    await expect(h.broker.rotations.execute(run.id, { isLast: false })).rejects.toThrow(message);
    expect((await h.deps.store.read((r) => r.rotations.findById(run.id)))?.state).toBe("failed");
    expect({ keys: keys(), versions: aws.secret(SECRET_ID).versions }).toEqual(before);
    expect(before.keys.map(([id]) => id)).toContain(foreign.AccessKey?.AccessKeyId);
  });

  it("a previous key someone reactivated is not deleted: the run is refused and nothing changes", async () => {
    await rotateOnce("reactivated-1");
    await clients.iam.send(
      new UpdateAccessKeyCommand({ UserName: USER, AccessKeyId: INITIAL.accessKeyId, Status: "Active" }),
    );
    const before = keys();
    const run = await start("tool-key", "reactivated-2");
    await expect(h.broker.rotations.execute(run.id, { isLast: false })).rejects.toThrow(
      `IAM user ${USER}'s previous access key ${INITIAL.accessKeyId} is still Active`,
    );
    expect(keys()).toEqual(before);
    expect(await currentKeyWorks()).toBe(true);
  });

  it("a dry run of a healthy rotation reports every check passing", async () => {
    const plan = await h.broker.rotations.dryRun(admin, "tool-key");
    expect(plan.ok).toBe(true);
    expect(plan.checks.map((c) => c.check)).toEqual([
      `IAM user ${USER} exists`,
      "the current access key works",
      "the secret's key is one of the user's keys",
      "a run can create a new access key",
    ]);
  });

  it("a secret without secretAccessKey is refused at dry run and at run, naming the field, and nothing changes", async () => {
    await expect(h.broker.rotations.dryRun(admin, "broken-key")).rejects.toThrow(/has no secretAccessKey/);
    const run = await start("broken-key", "broken");
    await expect(h.broker.rotations.execute(run.id, { isLast: false })).rejects.toThrow(
      /has no secretAccessKey/,
    );
    expect((await h.deps.store.read((r) => r.rotations.findById(run.id)))?.state).toBe("failed");
    expect(keys()).toEqual([[INITIAL.accessKeyId, "Active"]]);
  });
});
