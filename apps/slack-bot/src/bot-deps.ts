import { randomUUID } from "node:crypto";
import type { Broker, Logger } from "@leasehold/broker";
import { type Clock, isDomainError } from "@leasehold/domain";
import { escapeMrkdwn, type SlackIdentity } from "@leasehold/slack";
import type { WebClient } from "@slack/web-api";

/** The use cases the bot calls, under the names the API gives them. */
export type BotUseCases = {
  readonly targets: Pick<Broker["targets"], "list">;
  readonly requests: Pick<Broker["requests"], "create" | "list" | "breakGlass" | "reviewBreakGlass">;
  readonly reviews: Pick<Broker["reviews"], "submit" | "checkReviewable">;
  readonly grants: Pick<Broker["grants"], "extend" | "revoke" | "list">;
};

/** What every listener needs. Listeners are thin: parse, call one use case, answer. */
export type BotDeps = {
  readonly broker: BotUseCases;
  readonly identity: SlackIdentity;
  readonly clock: Clock;
  readonly log: Logger;
};

/**
 * A short message for the person, from any error: a domain error's own message (written to be safe),
 * otherwise a reference to the log line.
 */
export function explain(error: unknown, log: Logger): string {
  if (isDomainError(error)) return error.message;
  const reference = randomUUID().slice(0, 8);
  log.error({ err: error, reference }, "slack listener failed");
  return `Something went wrong (reference ${reference}). Try again, or tell your Leasehold admins.`;
}

/** Tells one person, and only them, that their action was refused. Nothing changed. */
export async function refuse(
  client: WebClient,
  where: { user: string; channel?: string | undefined },
  error: unknown,
  log: Logger,
): Promise<void> {
  // mrkdwn: a domain error's message may name a person or a target, so it is escaped like any user text.
  const text = `:no_entry_sign: ${escapeMrkdwn(explain(error, log))}`;
  try {
    if (where.channel) await client.chat.postEphemeral({ channel: where.channel, user: where.user, text });
    else await client.chat.postMessage({ channel: where.user, text });
  } catch (slackError) {
    log.warn({ err: slackError }, "could not tell the user about a refusal");
  }
}
