import { randomUUID } from "node:crypto";
import type { Broker, Logger } from "@leasehold/broker";
import { type Clock, isDomainError, StepUpRequiredError } from "@leasehold/domain";
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
  /** Where the console is (leasehold.yaml's `publicUrl`): step-up approvals are sent there. */
  readonly consoleUrl?: string | undefined;
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
  await tell(client, where, `:no_entry_sign: ${escapeMrkdwn(explain(error, log))}`, log);
}

/** A message to one person only: ephemeral in the channel of the click, or a DM when there is none. */
async function tell(
  client: WebClient,
  where: { user: string; channel?: string | undefined },
  text: string,
  log: Logger,
): Promise<void> {
  try {
    if (where.channel) await client.chat.postEphemeral({ channel: where.channel, user: where.user, text });
    else await client.chat.postMessage({ channel: where.user, text });
  } catch (slackError) {
    log.warn({ err: slackError }, "could not tell the user about a refusal");
  }
}

/** The console's page for one request, where a fresh sign-in can approve it. */
export const approvalLink = (consoleUrl: string, requestId: string): string =>
  `${consoleUrl.replace(/\/+$/, "")}/approvals?request=${encodeURIComponent(requestId)}`;

/**
 * Answers a click the broker refused: a refusal for want of a fresh sign-in (a target with `stepUp`,
 * which a Slack click never satisfies) sends the person to the console to approve there; any other
 * refusal is told as it is. Either way nothing changed.
 */
export async function refuseOrSendToConsole(
  client: WebClient,
  where: { user: string; channel?: string | undefined },
  requestId: string | undefined,
  error: unknown,
  deps: Pick<BotDeps, "consoleUrl" | "log">,
): Promise<void> {
  if (!(error instanceof StepUpRequiredError)) return refuse(client, where, error, deps.log);
  // The broker refuses for step-up only after the request id parsed as a UUID: safe in a link.
  const next =
    deps.consoleUrl && requestId
      ? `approve in the console: <${approvalLink(deps.consoleUrl, requestId)}|open request ${requestId}>`
      : "approve in the Leasehold console";
  const text = `:closed_lock_with_key: ${escapeMrkdwn(error.targetId)} needs a fresh sign-in, which a click in Slack is not: ${next}.`;
  await tell(client, where, text, deps.log);
}
