import { type BreakGlassVerdict, idSchema, reviewBreakGlassInput, reviewInput } from "@leasehold/domain";
import { renderDenyModal, SLACK_IDS } from "@leasehold/slack";
import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { type BotDeps, explain, refuse, refuseOrSendToConsole } from "./bot-deps.js";

/**
 * Approve and Deny. Authorization is the broker's, exactly as for the API: the clicker is mapped to a
 * principal explicitly, the requester can never approve, non-approvers are refused, and a decided
 * request refuses further clicks. A refusal is an ephemeral message and changes nothing. The channel
 * message itself is rewritten by the notifier from the audit trail. Mark justified / Mark unjustified
 * on a break-glass broadcast record its review the same way (the person who broke the glass is refused).
 */
export function registerReviewListeners(app: App, deps: BotDeps): void {
  const { broker, identity, log } = deps;

  // On a target with stepUp the broker refuses a Slack principal's approval before recording
  // anything (a click is not a fresh sign-in): the clicker is sent to the console instead.
  app.action<BlockAction<ButtonAction>>(SLACK_IDS.actions.approve, async ({ ack, body, action, client }) => {
    await ack();
    const where = { user: body.user.id, channel: body.channel?.id };
    try {
      const principal = await identity.principalFor(body.user.id);
      await broker.reviews.submit(
        principal,
        reviewInput.parse({ requestId: action.value, decision: "approve" }),
      );
    } catch (error) {
      await refuseOrSendToConsole(client, where, action.value, error, deps);
    }
  });

  const markBreakGlass = (verdict: BreakGlassVerdict) =>
    app.action<BlockAction<ButtonAction>>(
      verdict === "justified"
        ? SLACK_IDS.actions.breakGlassJustified
        : SLACK_IDS.actions.breakGlassUnjustified,
      async ({ ack, body, action, client }) => {
        await ack();
        try {
          const principal = await identity.principalFor(body.user.id);
          await broker.requests.reviewBreakGlass(
            principal,
            reviewBreakGlassInput.parse({ requestId: action.value, verdict }),
          );
        } catch (error) {
          const where = { user: body.user.id, channel: body.channel?.id };
          await refuseOrSendToConsole(client, where, action.value, error, deps);
        }
      },
    );
  markBreakGlass("justified");
  markBreakGlass("unjustified");

  app.action<BlockAction<ButtonAction>>(SLACK_IDS.actions.deny, async ({ ack, body, action, client }) => {
    await ack();
    try {
      const principal = await identity.principalFor(body.user.id);
      // Refuse before asking for a reason when the clicker could not deny anyway.
      const request = await broker.reviews.checkReviewable(principal, idSchema.parse(action.value));
      await client.views.open({
        trigger_id: body.trigger_id,
        view: renderDenyModal({
          requestId: request.id,
          targetId: request.targetId,
          requesterId: request.requesterId,
        }),
      });
    } catch (error) {
      await refuse(client, { user: body.user.id, channel: body.channel?.id }, error, log);
    }
  });

  app.view(SLACK_IDS.views.deny, async ({ ack, body, view }) => {
    const comment =
      view.state.values[SLACK_IDS.denyInputs.comment.block]?.[SLACK_IDS.denyInputs.comment.action]?.value;
    const parsed = reviewInput.safeParse({
      requestId: view.private_metadata,
      decision: "deny",
      comment: comment ?? "",
    });
    if (!parsed.success) {
      await ack({
        response_action: "errors",
        errors: {
          [SLACK_IDS.denyInputs.comment.block]: parsed.error.issues[0]?.message ?? "check the reason",
        },
      });
      return;
    }
    try {
      const principal = await identity.principalFor(body.user.id);
      await broker.reviews.submit(principal, parsed.data);
      await ack();
    } catch (error) {
      await ack({
        response_action: "errors",
        errors: { [SLACK_IDS.denyInputs.comment.block]: explain(error, log).slice(0, 150) },
      });
    }
  });
}
