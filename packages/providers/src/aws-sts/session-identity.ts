import { createHash } from "node:crypto";
import type { Grant } from "@leasehold/domain";
import type { ApprovalContext } from "../credential-provider.js";
import type { AwsRoleTarget } from "./aws-role-schemas.js";
import { LEASEHOLD_SESSION_TAG_KEYS, STS } from "./sts-limits.js";

/** `lh-<grant id>-a<attempt>`: unique per attempt, and every attempt of a grant matches `lh-<grant id>-a*`. */
export const sessionNameFor = (grantId: string, attempt: number): string => `lh-${grantId}-a${attempt}`;

/** An IAM `aws:userid` pattern for one attempt's session, or (attempt omitted) all of them. */
export const sessionUserIdPattern = (grantId: string, attempt?: number): string =>
  `*:lh-${grantId}-a${attempt ?? "*"}`;

const shortHash = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 8);

/**
 * The SourceIdentity for a principal: the id itself when STS accepts it, otherwise a readable,
 * collision-resistant form (allowed characters, a hash of the full id, at most 64 characters).
 */
export function sourceIdentityFor(principalId: string): string {
  if (STS.sourceIdentity.test(principalId) && !principalId.toLowerCase().startsWith("aws:"))
    return principalId;
  const readable = principalId
    .replace(/^aws:/i, "")
    .replace(/[^\w+=,.@-]/g, "_")
    .slice(0, 55);
  return `${readable}.${shortHash(principalId)}`;
}

/** Makes text fit a session tag value: allowed characters only, at most 256 of them. */
function tagValue(text: string): string {
  const clean = text.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, "_");
  return clean.length <= STS.tagValueMaxLength ? clean : clean.slice(0, STS.tagValueMaxLength);
}

/** Approvers joined by spaces; when they do not fit in one tag value, as many as fit and a count of the rest. */
function approversValue(approvers: readonly string[]): string {
  const parts = approvers.map(tagValue);
  for (let shown = parts.length; shown >= 0; shown--) {
    const rest = parts.length - shown;
    const value = [...parts.slice(0, shown), ...(rest > 0 ? [`+${rest} more`] : [])].join(" ");
    if (value.length <= STS.tagValueMaxLength) return value;
  }
  return `${parts.length} approvers`;
}

/**
 * The tags a session chained from this one must carry: Leasehold's own, those present in `tags`
 * (STS refuses a transitive key that is not among the tags). A target's own tags stay non-transitive.
 */
export function transitiveTagKeysFor(tags: readonly { Key: string }[]): string[] {
  const ours = new Set<string>(LEASEHOLD_SESSION_TAG_KEYS);
  return tags.map((tag) => tag.Key).filter((key) => ours.has(key));
}

/**
 * Session tags for a grant: Leasehold's own (request, grant, requester, approvers, ticket) and the
 * target's. Keys never collide: the target schema refuses the reserved keys.
 */
export function sessionTagsFor(grant: Grant, target: AwsRoleTarget, approval: ApprovalContext | null) {
  const [request, grantKey, requester, approvers, ticket] = LEASEHOLD_SESSION_TAG_KEYS;
  const tags: { Key: string; Value: string }[] = [
    { Key: request, Value: approval?.requestId ?? "none" },
    { Key: grantKey, Value: grant.id },
    { Key: requester, Value: tagValue(grant.principalId) },
    { Key: approvers, Value: approval ? approversValue(approval.approvers) : "" },
  ];
  if (approval?.ticket) tags.push({ Key: ticket, Value: tagValue(approval.ticket) });
  for (const [Key, Value] of Object.entries(target.aws.sessionTags)) tags.push({ Key, Value });
  return tags;
}
