import type { IAMClient } from "@aws-sdk/client-iam";
import {
  AssumeRoleCommand,
  type AssumeRoleCommandOutput,
  GetCallerIdentityCommand,
  type STSClient,
} from "@aws-sdk/client-sts";
import { type Grant, scopesByName, UpstreamError } from "@leasehold/domain";
import {
  type ApprovalContext,
  type CredentialProvider,
  type GrantInput,
  issuedScopes,
} from "../credential-provider.js";
import type { AwsSessionCredential } from "../issued-credential.js";
import { toAwsError, watchTries } from "./aws-errors.js";
import { type AwsRoleReference, type AwsRoleTarget, asAwsRoleTarget } from "./aws-role-schemas.js";
import { sessionPolicyFor, sessionPolicyProblem } from "./aws-scope-policy.js";
import { denySessionsPolicy, discardPolicyName, revokePolicyName } from "./deny-policy.js";
import { writeRoleDenials } from "./role-denials-writer.js";
import { abortable, rolePolicies } from "./role-policies.js";
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
/**
 * The session policy of a grant: its scopes' statements together, or without scopes the target's own
 * `sessionPolicy` (a target has one or the other), or none (the whole role).
 */
function grantSessionPolicy(target: AwsRoleTarget, approval: ApprovalContext | null): string | undefined {
  const scopes = issuedScopes(target, approval);
  if (scopes.length === 0) return target.aws.sessionPolicy;
  const policy = sessionPolicyFor(scopes);
  const problem = sessionPolicyProblem(policy, target.aws.sessionTags);
  if (problem) throw new UpstreamError(`target ${target.id}: ${problem}`, { retryable: false });
  return policy;
}

/** The STS provider, with its reference and credential types. */
export type AwsStsProvider = CredentialProvider<AwsRoleReference, AwsRoleReference, AwsSessionCredential>;

// biome-ignore lint/complexity/noExcessiveLinesPerFunction: a provider is one object of the contract's methods over the clients it closes over; each method is short.
export function createAwsStsProvider(clients: { sts: STSClient; iam: IAMClient }): AwsStsProvider {
  const { sts, iam } = clients;

  /**
   * Rewrites the role's denials from the database's grants on it, alone among every worker (see
   * role-denials.ts). `excluding`: a grant whose clean-up is under way, whose denial may go.
   */
  const writeDenials = async (input: GrantInput, excluding?: string) => {
    const { roleArn } = asAwsRoleTarget(input.target).aws;
    if (!input.denials) throw new Error("STS revocations are written through the broker's denial ledger");
    await input.denials.exclusive(
      {
        key: `aws-role:${roleArn}`,
        sameScope: (target) => target.kind === "aws-role" && asAwsRoleTarget(target).aws.roleArn === roleArn,
        excluding,
      },
      (grants, now) => writeRoleDenials(iam, { roleArn, grants, now, signal: input.signal }),
    );
  };

  return {
    kind: "aws-role",

    async issue({ grant, target: anyTarget, approval, signal }) {
      const target = asAwsRoleTarget(anyTarget);
      const sessionName = sessionNameFor(grant.id, grant.issueAttempts);
      const sourceIdentity = sourceIdentityFor(grant.principalId);
      const tags = sessionTagsFor(grant, target, approval);
      const policy = grantSessionPolicy(target, approval);
      const command = new AssumeRoleCommand({
        RoleArn: target.aws.roleArn,
        RoleSessionName: sessionName,
        DurationSeconds: grant.durationSeconds,
        SourceIdentity: sourceIdentity,
        Tags: tags,
        // Sessions chained from this one carry Leasehold's tags, so revocation reaches them too.
        TransitiveTagKeys: transitiveTagKeysFor(tags),
        ...(policy !== undefined ? { Policy: policy } : {}),
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
      await rolePolicies(iam, asAwsRoleTarget(input.target).aws.roleArn, input.signal).put(
        discardPolicyName(input.grant.id),
        denySessionsPolicy("LeaseholdDiscardInterruptedIssue", earlier),
      );
    },

    // The grant is `revoking` now, so the role's denials written from the database include it.
    revoke: (input) => writeDenials(input),

    // STS sessions end at their Expiration by themselves, which is the grant's deadline.
    async expire() {},

    async release(input) {
      if (input.grant.state === "revoked") await writeDenials(input, input.grant.id);
      const policies = rolePolicies(iam, asAwsRoleTarget(input.target).aws.roleArn, input.signal);
      await policies.delete(discardPolicyName(input.grant.id));
      // What an earlier version wrote per revocation.
      await policies.delete(revokePolicyName(input.grant.id));
    },

    async checkConnection({ signal }) {
      try {
        await sts.send(new GetCallerIdentityCommand({}), abortable(signal));
      } catch (error) {
        throw toAwsError(error, "STS GetCallerIdentity");
      }
    },

    scopeProblem({ target: anyTarget, scopes }) {
      const target = asAwsRoleTarget(anyTarget);
      if (scopes.length === 0) return undefined;
      const { found } = scopesByName(target.scopes, scopes);
      const problem = sessionPolicyProblem(sessionPolicyFor(found), target.aws.sessionTags);
      return problem && `these scopes together are too large for one AWS session: ${problem}; ask for fewer`;
    },

    needsRelease: (grant: Grant) => grant.state === "revoked" || grant.issueAttempts > 1,

    drift: createStsDrift(iam),
  };
}
