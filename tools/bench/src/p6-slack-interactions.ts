import {
  blockActionPayload,
  interactionBody,
  signSlackRequest,
  viewSubmissionPayload,
} from "@leasehold/sandbox";
import { Pool } from "undici";

/**
 * The interactions P6 sends, as Slack sends them: a form body `payload=<JSON>`, signed with Slack's v0
 * signature over a fresh timestamp. The ids are the bot's (packages/slack's SLACK_IDS): an Approve
 * click in a channel message, and the submission of the Deny modal (a reason, the request id in its
 * private metadata).
 */
const APPROVE_ACTION = "leasehold_approve";
const DENY_VIEW = "leasehold_deny";
const DENY_COMMENT = { block: "comment", action: "comment" } as const;
const CHANNEL = "C0APPROVALS";

export type InteractionKind = "approve click" | "deny submission";

export type Interaction = {
  readonly kind: InteractionKind;
  readonly requestId: string;
  readonly userId: string;
};

export function interactionBodyFor(interaction: Interaction, serial: number): string {
  if (interaction.kind === "approve click") {
    return interactionBody(
      blockActionPayload({
        userId: interaction.userId,
        actionId: APPROVE_ACTION,
        value: interaction.requestId,
        channelId: CHANNEL,
        messageTs: `1796500000.${String(serial).padStart(6, "0")}`,
        triggerId: `${serial}.1796500000.bench`,
      }),
    );
  }
  return interactionBody(
    viewSubmissionPayload({
      userId: interaction.userId,
      callbackId: DENY_VIEW,
      privateMetadata: interaction.requestId,
      viewId: `V0BENCH${serial}`,
      values: {
        [DENY_COMMENT.block]: {
          [DENY_COMMENT.action]: { type: "plain_text_input", value: "bench P6: not needed after all" },
        },
      },
    }),
  );
}

export type Acknowledgement = {
  readonly kind: InteractionKind;
  /** HTTP status, or 0 when no answer came. */
  readonly status: number;
  /** From handing the request to the connection pool to the last byte of the answer. */
  readonly ms: number;
  /** The answer's body: empty for a plain acknowledgement; `response_action: errors` is a refusal. */
  readonly body: string;
};

/** Sends interactions to the bot over keep-alive connections, as many at once as are due. */
export function interactionSender(eventsUrl: string, signingSecret: string) {
  const url = new URL(eventsUrl);
  const pool = new Pool(url.origin, { connections: 64, pipelining: 1 });
  let serial = 0;
  return {
    async send(interaction: Interaction): Promise<Acknowledgement> {
      serial += 1;
      const body = interactionBodyFor(interaction, serial);
      // Signed just before sending, as Slack does: the bot refuses a timestamp 5 minutes old.
      const headers = {
        "content-type": "application/x-www-form-urlencoded",
        ...signSlackRequest({ signingSecret, body }),
      };
      const started = performance.now();
      try {
        const answer = await pool.request({ method: "POST", path: url.pathname, headers, body });
        const text = await answer.body.text();
        return {
          kind: interaction.kind,
          status: answer.statusCode,
          ms: performance.now() - started,
          body: text,
        };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return { kind: interaction.kind, status: 0, ms: performance.now() - started, body: message };
      }
    },
    close: () => pool.close(),
  };
}

/**
 * Open loop: interaction `i` is sent at `i / ratePerSecond` s after the start whether or not earlier
 * ones were answered, so a slow bot meets the same arrivals (no coordinated omission). Resolves with
 * every acknowledgement, in sending order, and how late the sender itself was at its worst.
 */
export async function sendAtRate(
  interactions: readonly Interaction[],
  ratePerSecond: number,
  send: (interaction: Interaction) => Promise<Acknowledgement>,
): Promise<{ acks: Acknowledgement[]; senderLateMaxMs: number }> {
  const start = performance.now() + 50;
  let senderLateMaxMs = 0;
  const inFlight: Promise<Acknowledgement>[] = [];
  for (const [i, interaction] of interactions.entries()) {
    const due = start + (i * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    senderLateMaxMs = Math.max(senderLateMaxMs, performance.now() - due);
    inFlight.push(send(interaction));
  }
  return { acks: await Promise.all(inFlight), senderLateMaxMs };
}
