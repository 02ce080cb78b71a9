import { emailPrincipalId, ForbiddenError, type Principal, samePrincipalId } from "@leasehold/domain";
import type { WebClient } from "@slack/web-api";

/** How long a Slack user's resolved identity is reused before users.info is asked again. */
const CACHE_MS = 5 * 60_000;

/**
 * What identity mapping reads from leasehold.yaml's `slack` section (validated by @leasehold/config,
 * whose SlackSettings fits this shape): explicit Slack user → principal mappings, group memberships,
 * and whether Slack's confirmed email may identify an unmapped user.
 */
export type SlackIdentitySettings = {
  readonly users: Readonly<Record<string, string>>;
  readonly groups: Readonly<Record<string, readonly string[]>>;
  readonly useVerifiedEmail: boolean;
};

export type SlackIdentity = {
  /** The principal behind a Slack user; ForbiddenError when Leasehold cannot tell who it is. */
  principalFor(slackUserId: string): Promise<Principal>;
  /** The Slack user to DM for a principal, or undefined when there is none. */
  slackUserFor(principalId: string): Promise<string | undefined>;
};

/**
 * Maps Slack users to principals explicitly: the configured mapping first, then (if allowed) the email
 * Slack itself has confirmed. Display names and unconfirmed emails are never used. Group membership
 * comes from leasehold.yaml's `slack.groups`, because Slack has no verified groups.
 */
export function createSlackIdentity(settings: SlackIdentitySettings, client: WebClient): SlackIdentity {
  const byPrincipal = new Map(
    Object.entries(settings.users).map(([slackId, principal]) => [principal, slackId]),
  );
  const cache = new Map<string, { principal: Principal; until: number }>();
  const groupsOf = (principalId: string) =>
    Object.entries(settings.groups)
      .filter(([, members]) => members.some((member) => samePrincipalId(member, principalId)))
      .map(([group]) => group);
  const principal = (id: string, slackUserId: string): Principal => ({
    id,
    kind: "human",
    provider: "slack",
    subject: slackUserId,
    groups: groupsOf(id),
    // A Slack session, not a sign-in with the identity provider: never enough for step-up.
    authentication: { method: "slack" },
  });

  return {
    async principalFor(slackUserId) {
      const mapped = settings.users[slackUserId];
      if (mapped) return principal(mapped, slackUserId);
      const cached = cache.get(slackUserId);
      if (cached && cached.until > Date.now()) return cached.principal;
      if (!settings.useVerifiedEmail) {
        throw new ForbiddenError(
          "your Slack account is not mapped to a Leasehold identity; ask an admin to add it",
        );
      }
      const answer = await client.users.info({ user: slackUserId });
      const user = answer.user;
      const email = user?.profile?.email;
      if (!user || user.deleted || user.is_bot || !email || user.is_email_confirmed !== true) {
        throw new ForbiddenError(
          "Leasehold cannot tell who you are: your Slack account has no confirmed email; ask an admin to map it",
        );
      }
      const id = emailPrincipalId(email);
      if (!id.ok) {
        throw new ForbiddenError(
          `Leasehold cannot tell who you are: your Slack email ${id.problem}; ask an admin to map your account`,
        );
      }
      const resolved = principal(id.id, slackUserId);
      cache.set(slackUserId, { principal: resolved, until: Date.now() + CACHE_MS });
      return resolved;
    },

    async slackUserFor(principalId) {
      const mapped = byPrincipal.get(principalId);
      if (mapped) return mapped;
      if (!settings.useVerifiedEmail || principalId.includes(":")) return undefined;
      try {
        const answer = await client.users.lookupByEmail({ email: principalId });
        return answer.user?.is_email_confirmed === true && !answer.user.deleted ? answer.user.id : undefined;
      } catch (error) {
        if ((error as { data?: { error?: string } }).data?.error === "users_not_found") return undefined;
        throw error;
      }
    },
  };
}
