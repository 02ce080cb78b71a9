import { checkString, hasReservedPrefix, STS_LIMITS } from "./aws-limits.js";
import { AwsQueryError, constraintProblem, validationError } from "./aws-query-error.js";
import { element, isoSeconds } from "./aws-query-xml.js";
import {
  newSessionCredentials,
  type Principal,
  principalArn,
  type Role,
  type SandboxState,
} from "./aws-sandbox-state.js";
import type { IssuedSession } from "./aws-sandbox-types.js";
import { packedPolicyPercent } from "./packed-policy.js";
import { policyDocumentProblem } from "./policy-document.js";
import { authorizeCall } from "./policy-evaluation.js";
import { listIndexes, type QueryParams, stringList } from "./query-params.js";

/** STS actions the stand-in serves; any other is InvalidAction. */
export const STS_ACTIONS = ["AssumeRole", "GetCallerIdentity"] as const;

type AssumeRoleInput = {
  roleArn: string;
  roleSessionName: string;
  durationSeconds: number | undefined;
  policy: string | undefined;
  policyArns: string[];
  tags: { key: string; value: string }[];
  transitiveTagKeys: string[];
  externalId: string | undefined;
  sourceIdentity: string | undefined;
};

/** Every model constraint of AssumeRole's parameters; all broken ones are reported together, as AWS does. */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: long because it checks every AssumeRole parameter in the order STS reports them, one short block each.
function parseAssumeRoleInput(params: QueryParams): AssumeRoleInput {
  const problems: string[] = [];
  const roleArn = params.get("RoleArn");
  const roleSessionName = params.get("RoleSessionName");
  checkString(problems, "roleArn", roleArn, STS_LIMITS.roleArn, true);
  checkString(problems, "roleSessionName", roleSessionName, STS_LIMITS.roleSessionName, true);

  const durationText = params.get("DurationSeconds");
  let durationSeconds: number | undefined;
  if (durationText !== undefined) {
    const { min, max } = STS_LIMITS.durationSeconds;
    durationSeconds = /^-?\d{1,10}$/.test(durationText) ? Number.parseInt(durationText, 10) : Number.NaN;
    if (Number.isNaN(durationSeconds)) {
      problems.push(constraintProblem(durationText, "durationSeconds", "Member must be an integer"));
    } else if (durationSeconds < min) {
      problems.push(
        constraintProblem(
          durationText,
          "durationSeconds",
          `Member must have value greater than or equal to ${min}`,
        ),
      );
    } else if (durationSeconds > max) {
      problems.push(
        constraintProblem(
          durationText,
          "durationSeconds",
          `Member must have value less than or equal to ${max}`,
        ),
      );
    }
  }

  const policy = params.get("Policy");
  checkString(problems, "policy", policy, STS_LIMITS.policy);

  const arnIndexes = listIndexes(params, "PolicyArns");
  if (arnIndexes.length > STS_LIMITS.maxPolicyArns) {
    problems.push(
      constraintProblem(
        `[${arnIndexes.length} policy ARNs]`,
        "policyArns",
        `Member must have length less than or equal to ${STS_LIMITS.maxPolicyArns}`,
      ),
    );
  }
  const policyArns = arnIndexes.map((index, position) => {
    const arn = params.get(`PolicyArns.member.${index}.arn`);
    checkString(problems, `policyArns.${position + 1}.member.arn`, arn, STS_LIMITS.roleArn, true);
    return arn ?? "";
  });

  const tagIndexes = listIndexes(params, "Tags");
  if (tagIndexes.length > STS_LIMITS.maxTags) {
    problems.push(
      constraintProblem(
        `[${tagIndexes.length} tags]`,
        "tags",
        `Member must have length less than or equal to ${STS_LIMITS.maxTags}`,
      ),
    );
  }
  const tags = tagIndexes.map((index, position) => {
    const key = params.get(`Tags.member.${index}.Key`);
    const value = params.get(`Tags.member.${index}.Value`);
    checkString(problems, `tags.${position + 1}.member.key`, key, STS_LIMITS.tagKey, true);
    checkString(problems, `tags.${position + 1}.member.value`, value, STS_LIMITS.tagValue, true);
    return { key: key ?? "", value: value ?? "" };
  });

  const transitiveTagKeys = stringList(params, "TransitiveTagKeys");
  if (transitiveTagKeys.length > STS_LIMITS.maxTransitiveTagKeys) {
    problems.push(
      constraintProblem(
        `[${transitiveTagKeys.length} keys]`,
        "transitiveTagKeys",
        `Member must have length less than or equal to ${STS_LIMITS.maxTransitiveTagKeys}`,
      ),
    );
  }
  transitiveTagKeys.forEach((key, position) => {
    checkString(problems, `transitiveTagKeys.${position + 1}.member`, key, STS_LIMITS.tagKey);
  });

  const externalId = params.get("ExternalId");
  checkString(problems, "externalId", externalId, STS_LIMITS.externalId);
  const sourceIdentity = params.get("SourceIdentity");
  checkString(problems, "sourceIdentity", sourceIdentity, STS_LIMITS.sourceIdentity);
  // MFA is not modelled (no device is ever required), but malformed MFA parameters are still refused.
  checkString(problems, "serialNumber", params.get("SerialNumber"), STS_LIMITS.serialNumber);
  checkString(problems, "tokenCode", params.get("TokenCode"), STS_LIMITS.tokenCode);

  if (problems.length > 0 || roleArn === undefined || roleSessionName === undefined) {
    throw validationError(problems);
  }
  return {
    roleArn,
    roleSessionName,
    durationSeconds,
    policy,
    policyArns,
    tags,
    transitiveTagKeys,
    externalId,
    sourceIdentity,
  };
}

const notAuthorized = (caller: Principal, action: string, resource: string) =>
  new AwsQueryError(
    403,
    "AccessDenied",
    `User: ${principalArn(caller)} is not authorized to perform: ${action} on resource: ${resource}`,
  );

/**
 * Session tags after the rules STS applies beyond the model: keys unique ignoring case, no `aws:`
 * prefix, transitive keys among the tags, and transitive tags inherited from a calling session not
 * overridden.
 */
function sessionTags(input: AssumeRoleInput, caller: Principal) {
  const inherited = caller.kind === "session" ? caller.session.transitiveTags : {};
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const [position, { key }] of input.tags.entries()) {
    const folded = key.toLowerCase();
    if (seen.has(folded)) {
      throw new AwsQueryError(
        400,
        "ValidationError",
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
      );
    }
    seen.add(folded);
    if (hasReservedPrefix(key)) {
      problems.push(
        constraintProblem(key, `tags.${position + 1}.member.key`, "Member must not start with 'aws:'"),
      );
    }
    if (Object.keys(inherited).some((inheritedKey) => inheritedKey.toLowerCase() === folded)) {
      throw new AwsQueryError(
        400,
        "ValidationError",
        `Tag key '${key}' is a transitive tag of the calling session and cannot be overridden in the role chain.`,
      );
    }
  }
  if (problems.length > 0) throw validationError(problems);
  for (const key of input.transitiveTagKeys) {
    if (!seen.has(key.toLowerCase())) {
      throw new AwsQueryError(
        400,
        "ValidationError",
        `The specified transitive tag key '${key}' must be included in the requested tags.`,
      );
    }
  }
  const requested = Object.fromEntries(input.tags.map(({ key, value }) => [key, value]));
  const tags: Record<string, string> = { ...inherited, ...requested };
  const transitiveTagKeys = [...Object.keys(inherited), ...input.transitiveTagKeys];
  const transitiveTags = Object.fromEntries(
    Object.entries(tags).filter(([key]) =>
      transitiveTagKeys.some((transitive) => transitive.toLowerCase() === key.toLowerCase()),
    ),
  );
  return { tags, transitiveTagKeys, transitiveTags };
}

function sourceIdentityFor(input: AssumeRoleInput, caller: Principal, role: Role): string | undefined {
  const requested = input.sourceIdentity;
  if (requested !== undefined && hasReservedPrefix(requested)) {
    throw validationError([
      constraintProblem(requested, "sourceIdentity", "Member must not start with 'aws:'"),
    ]);
  }
  const inherited = caller.kind === "session" ? caller.session.sourceIdentity : undefined;
  if (inherited !== undefined && requested !== undefined && requested !== inherited) {
    throw new AwsQueryError(
      403,
      "AccessDenied",
      `SourceIdentity cannot be changed in a role chain: the calling session's is '${inherited}'.`,
    );
  }
  const sourceIdentity = requested ?? inherited;
  // A source identity carried along a role chain needs the permission on every role it passes through.
  if (sourceIdentity !== undefined && !role.allowSetSourceIdentity) {
    throw notAuthorized(caller, "sts:SetSourceIdentity", role.arn);
  }
  return sourceIdentity;
}

/** AssumeRole: validates like STS, then issues ASIA credentials and records the session. */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: long because STS checks trust, duration, session policy and tags in this order; kept in one place.
export function assumeRole(state: SandboxState, caller: Principal, params: QueryParams, now: Date): string {
  const input = parseAssumeRoleInput(params);
  // Role chaining is a call made with session credentials: the calling role's policies govern it.
  authorizeCall(caller, "sts:AssumeRole", input.roleArn);
  const role = state.roles.get(input.roleArn);
  if (role === undefined) throw notAuthorized(caller, "sts:AssumeRole", input.roleArn);
  // The trust policy's sts:ExternalId condition: a missing or different id is simply not trusted.
  if (role.externalId !== undefined && input.externalId !== role.externalId) {
    throw notAuthorized(caller, "sts:AssumeRole", role.arn);
  }

  const durationSeconds = input.durationSeconds ?? STS_LIMITS.defaultDurationSeconds;
  if (caller.kind === "session" && durationSeconds > STS_LIMITS.roleChainingMaxDurationSeconds) {
    throw new AwsQueryError(
      400,
      "ValidationError",
      "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    );
  }
  if (durationSeconds > role.maxSessionDurationSeconds) {
    throw new AwsQueryError(
      400,
      "ValidationError",
      "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    );
  }

  const { tags, transitiveTagKeys, transitiveTags } = sessionTags(input, caller);
  if (input.policy !== undefined) {
    const problem = policyDocumentProblem(input.policy);
    if (problem !== undefined) throw new AwsQueryError(400, "MalformedPolicyDocument", problem);
  }
  if (Object.keys(tags).length > 0 && !role.allowTagSession) {
    throw notAuthorized(caller, "sts:TagSession", role.arn);
  }
  const sourceIdentity = sourceIdentityFor(input, caller, role);

  const packsSomething =
    input.policy !== undefined || input.policyArns.length > 0 || Object.keys(tags).length > 0;
  const packedPolicySize = packsSomething
    ? packedPolicyPercent({ policy: input.policy, policyArns: input.policyArns, tags })
    : undefined;
  if (packedPolicySize !== undefined && packedPolicySize > 100) {
    throw new AwsQueryError(
      400,
      "PackedPolicyTooLarge",
      `Packed policy consumes ${packedPolicySize}% of allotted space, please use smaller policy.`,
    );
  }

  const credentials = newSessionCredentials();
  const expiration = new Date(
    Math.floor(now.getTime() / 1000) * 1000 + (durationSeconds - state.sessionAgeOnIssueSeconds) * 1000,
  );
  const assumedRoleArn = `arn:${role.partition}:sts::${role.account}:assumed-role/${role.name}/${input.roleSessionName}`;
  const assumedRoleId = `${role.roleId}:${input.roleSessionName}`;
  state.sessions.set(credentials.accessKeyId, {
    ...credentials,
    expiration,
    role,
    assumedRoleArn,
    assumedRoleId,
    sourceIdentity,
    tags,
    issuedAt: now,
    policy: input.policy,
    transitiveTags,
  });
  const record: IssuedSession = {
    roleArn: role.arn,
    roleSessionName: input.roleSessionName,
    durationSeconds,
    tags,
    transitiveTagKeys,
    policyArns: input.policyArns,
    accessKeyId: credentials.accessKeyId,
    assumedRoleId,
    assumedRoleArn,
    issuedAt: now,
    expiration,
    callerAccessKeyId: caller.accessKeyId,
    ...(sourceIdentity === undefined ? {} : { sourceIdentity }),
    ...(input.policy === undefined ? {} : { policy: input.policy }),
    ...(input.externalId === undefined ? {} : { externalId: input.externalId }),
  };
  state.issued.push(record);

  return (
    element("SourceIdentity", sourceIdentity) +
    `<AssumedRoleUser>${element("Arn", assumedRoleArn)}${element("AssumedRoleId", assumedRoleId)}</AssumedRoleUser>` +
    `<Credentials>${element("AccessKeyId", credentials.accessKeyId)}` +
    `${element("SecretAccessKey", credentials.secretAccessKey)}` +
    `${element("SessionToken", credentials.sessionToken)}` +
    `${element("Expiration", isoSeconds(expiration))}</Credentials>` +
    element("PackedPolicySize", packedPolicySize)
  );
}

/** GetCallerIdentity: the user for the long-term key, the assumed-role ARN for a session. */
export function getCallerIdentity(caller: Principal): string {
  const identity =
    caller.kind === "user"
      ? { userId: caller.userId, account: caller.account, arn: caller.arn }
      : {
          userId: caller.session.assumedRoleId,
          account: caller.session.role.account,
          arn: caller.session.assumedRoleArn,
        };
  return (
    element("UserId", identity.userId) + element("Account", identity.account) + element("Arn", identity.arn)
  );
}
