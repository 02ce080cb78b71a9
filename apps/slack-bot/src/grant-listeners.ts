import { extendGrantInput, grantIdInput } from "@leasehold/domain";
import { renderAppHome, SLACK_IDS } from "@leasehold/slack";
import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { type BotDeps, refuse } from "./bot-deps.js";

/** Extend and Revoke-now (from the reminder DM and App Home), and App Home itself. */
export function registerGrantListeners(app: App, deps: BotDeps): void {
  const { broker, identity, clock, log } = deps;

  app.action<BlockAction<ButtonAction>>(SLACK_IDS.actions.extend, async ({ ack, body, action, client }) => {
    await ack();
    try {
      const principal = await identity.principalFor(body.user.id);
      const input = extendGrantInput.parse(JSON.parse(action.value ?? "{}"));
      await broker.grants.extend(principal, input);
    } catch (error) {
      await refuse(client, { user: body.user.id, channel: body.channel?.id }, error, log);
    }
  });

  app.action<BlockAction<ButtonAction>>(SLACK_IDS.actions.revoke, async ({ ack, body, action, client }) => {
    await ack();
    try {
      const principal = await identity.principalFor(body.user.id);
      await broker.grants.revoke(principal, {
        ...grantIdInput.parse({ grantId: action.value }),
        reason: "revoked from Slack",
      });
    } catch (error) {
      await refuse(client, { user: body.user.id, channel: body.channel?.id }, error, log);
    }
  });

  app.event("app_home_opened", async ({ event, client }) => {
    if (event.tab !== "home") return;
    try {
      const principal = await identity.principalFor(event.user);
      const [grants, mine, toReview] = await Promise.all([
        broker.grants.list(principal, 50),
        broker.requests.list(principal, { view: "mine", limit: 50 }),
        broker.requests.list(principal, { view: "to-review", limit: 50 }),
      ]);
      await client.views.publish({
        user_id: event.user,
        view: renderAppHome({
          activeGrants: grants.filter((g) => g.state === "active"),
          myPending: mine.map((v) => v.request).filter((r) => r.state === "pending"),
          toReview: toReview.map((v) => v.request),
          now: clock(),
        }),
      });
    } catch (error) {
      log.warn({ user: event.user, err: String(error) }, "could not show App Home");
    }
  });
}
