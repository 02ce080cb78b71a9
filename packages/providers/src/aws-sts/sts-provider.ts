import { DeleteRolePolicyCommand, type IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import {
  AssumeRoleCommand,
  type AssumeRoleCommandOutput,
  GetCallerIdentityCommand,
  type STSClient,
} from "@aws-sdk/client-sts";
import { type Grant, UpstreamError } from "@leasehold/domain";
import type { CredentialProvider, GrantInput } from "../credential-provider.js";
import type { AwsSessionCredential } from "../issued-credential.js";
import { toAwsError, watchTries } from "./aws-errors.js";
import { type AwsRoleReference, asAwsRoleTarget } from "./aws-role-schemas.js";
import {
  denySessionsPolicy,
  discardPolicyName,
  revokeGrantPolicy,
  revokePolicyName,
  roleNameOf,
} from "./deny-policy.js";
import {
  sessionNameFor,
  sessionTagsFor,
  sessionUserIdPattern,
  sourceIdentityFor,
  transitiveTagKeysFor,
} from "./session-identity.js";
import { createStsDrift } from "./sts-drift.js";

/**
 * AWS roles through STS AssumeRole. The clients come from the caller, built from the SDK's standard
 * settings (AWS_REGION, AWS_ENDPOINT_URL_STS / _IAM, the credential chain), so the same code talks to
 * AWS and to the sandbox.
 */
/** The STS provider, with its reference and credential types. */
export type AwsStsProvider = CredentialProvider<AwsRoleReference, AwsRoleReference, AwsSessionCredential>;

// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a provider is one object of the contract's methods over the clients it closes over; each method is short.
export function createAwsStsProvider(clients: { sts: STSClient; iam: IAMClient }): AwsStsProvider {
  const { sts, iam } = clients;

  const putPolicy = async (input: GrantInput, policyName: string, document: string) => {
    const target = asAwsRoleTarget(input.target);
    try {
      await iam.send(
        new PutRolePolicyCommand({
          RoleName: roleNameOf(target.aws.roleArn),
          PolicyName: policyName,
          PolicyDocument: document,
        }),
        abortable(input.signal),
      );
    } catch (error) {
      throw toAwsError(error, `IAM PutRolePolicy on ${target.aws.roleArn}`);
    }
  };

  return {
    kind: "aws-role",

    async issue({ grant, target: anyTarget, approval, signal }) {
      const target = asAwsRoleTarget(anyTarget);
      const sessionName = sessionNameFor(grant.id, grant.issueAttempts);
      const sourceIdentity = sourceIdentityFor(grant.principalId);
      const tags = sessionTagsFor(grant, target, approval);
      const command = new AssumeRoleCommand({
        RoleArn: target.aws.roleArn,
        RoleSessionName: sessionName,
        DurationSeconds: grant.durationSeconds,
        SourceIdentity: sourceIdentity,
        Tags: tags,
        // Sessions chained from this one carry Leasehold's tags, so revocation reaches them too.
        TransitiveTagKeys: transitiveTagKeysFor(tags),
        ...(target.aws.sessionPolicy !== undefined ? { Policy: target.aws.sessionPolicy } : {}),
        ...(target.aws.externalId !== undefined ? { ExternalId: target.aws.externalId } : {}),
      });
      // Whether this attempt's session may exist: a retry must deny it only if AWS saw the request.
      const tries = watchTries(command);
      let result: AssumeRoleCommandOutput;
      try {
        result = await sts.send(command, abortable(signal));
      } catch (error) {
        throw toAwsError(error, `STS AssumeRole on ${target.aws.roleArn}`, tries);
      }
      const credentials = result.Credentials;
      if (
        !credentials?.AccessKeyId ||
        !credentials.SecretAccessKey ||
        !credentials.SessionToken ||
        !credentials.Expiration
      ) {
        throw new UpstreamError("STS AssumeRole answered without credentials", { retryable: true });
      }
      return {
        reference: {
          roleArn: target.aws.roleArn,
          sessionName,
          sourceIdentity,
          accessKeyId: credentials.AccessKeyId,
          assumedRoleId: result.AssumedRoleUser?.AssumedRoleId ?? "",
        },
        secret: {
          kind: "aws-session",
          accessKeyId: credentials.AccessKeyId,
          secretAccessKey: credentials.SecretAccessKey,
          sessionToken: credentials.SessionToken,
          expiration: credentials.Expiration.toISOString(),
        },
        expiresAt: credentials.Expiration,
      };
    },

    async discardEarlierAttempts(input) {
      const earlier = Array.from({ length: input.grant.issueAttempts - 1 }, (_, i) =>
        sessionUserIdPattern(input.grant.id, i + 1),
      );
      if (earlier.length === 0) return;
      // By aws:userid only: the latest attempt carries the same tags and must keep working. The
      // sessions denied here were never delivered, so no one holds them to chain from.
      await putPolicy(
        input,
        discardPolicyName(input.grant.id),
        denySessionsPolicy("LeaseholdDiscardInterruptedIssue", earlier),
      );
    },

    async revoke(input) {
      const { grant } = input;
      await putPolicy(
        input,
        revokePolicyName(grant.id),
        revokeGrantPolicy(grant.id, sourceIdentityFor(grant.principalId)),
      );
    },

    // STS sessions end at their Expiration by themselves, which is the grant's deadline.
    async expire() {},

    async release(input) {
      const target = asAwsRoleTarget(input.target);
      for (const policyName of [revokePolicyName(input.grant.id), discardPolicyName(input.grant.id)]) {
        try {
          await iam.send(
            new DeleteRolePolicyCommand({ RoleName: roleNameOf(target.aws.roleArn), PolicyName: policyName }),
            abortable(input.signal),
          );
        } catch (error) {
          if ((error as Error).name === "NoSuchEntityException" || (error as Error).name === "NoSuchEntity")
            continue;
          throw toAwsError(error, `IAM DeleteRolePolicy on ${target.aws.roleArn}`);
        }
      }
    },

    async checkConnection({ signal }) {
      try {
        await sts.send(new GetCallerIdentityCommand({}), abortable(signal));
      } catch (error) {
        throw toAwsError(error, "STS GetCallerIdentity");
      }
    },

    needsRelease: (grant: Grant) => grant.state === "revoked" || grant.issueAttempts > 1,

    drift: createStsDrift(iam),
  };
}

/** SDK call options that forward the worker's abort signal, when there is one. */
const abortable = (signal: AbortSignal | undefined) => (signal ? { abortSignal: signal } : {});
