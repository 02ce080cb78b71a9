import { breakGlassInput, ForbiddenError, requestAccessInput } from "@leasehold/domain";
import { BREAK_GLASS_VALUE, renderRequestModal, SLACK_IDS, scopesPicked } from "@leasehold/slack";
import type { App } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { type BotDeps, explain, refuse } from "./bot-deps.js";

type ViewValues = Record<
  string,
  Record<
    string,
    {
      value?: string | null;
      selected_option?: { value: string } | null;
      selected_options?: readonly { value: string }[] | null;
    }
  >
>;

/** Which modal block shows an error about which field. */
const BLOCK_OF_FIELD: Record<string, string> = {
  targetId: SLACK_IDS.requestInputs.target.block,
  durationSeconds: SLACK_IDS.requestInputs.duration.block,
  reason: SLACK_IDS.requestInputs.reason.block,
  ticket: SLACK_IDS.requestInputs.ticket.block,
  scopes: SLACK_IDS.requestInputs.scopes.block,
};

/** `/access`, the global shortcut and the App Home button all open the same modal. */
export function registerRequestListeners(app: App, deps: BotDeps): void {
  const { broker, identity, log } = deps;

  const openModal = async (client: WebClient, user: string, triggerId: string, channel?: string) => {
    try {
      const principal = await identity.principalFor(user);
      const requestable = broker.targets.list(principal).map((t) => ({
        id: t.id,
        description: t.description,
        maxDurationSeconds: t.maxDurationSeconds,
        defaultDurationSeconds: t.defaultDurationSeconds,
        ticketRequired: t.ticket.required,
        scopes: t.scopes.map((scope) => ({ name: scope.name, description: scope.description })),
        defaultScopes: t.defaultScopes,
      }));
      if (requestable.length === 0) throw new ForbiddenError("there are no targets you may request");
      await client.views.open({ trigger_id: triggerId, view: renderRequestModal(requestable) });
    } catch (error) {
      await refuse(client, { user, channel }, error, log);
    }
  };

  app.command(SLACK_IDS.command, async ({ ack, body, client }) => {
    await ack();
    await openModal(client, body.user_id, body.trigger_id, body.channel_id);
  });
  app.shortcut(SLACK_IDS.shortcut, async ({ ack, body, client }) => {
    await ack();
    await openModal(client, body.user.id, body.trigger_id);
  });
  app.action(SLACK_IDS.actions.openRequest, async ({ ack, body, client }) => {
    await ack();
    if (body.type === "block_actions") await openModal(client, body.user.id, body.trigger_id);
  });

  app.view(SLACK_IDS.views.request, async ({ ack, body, view }) => {
    const values = view.state.values as ViewValues;
    const field = (input: { block: string; action: string }) => values[input.block]?.[input.action];
    const ids = SLACK_IDS.requestInputs;
    const ticket = field(ids.ticket)?.value ?? "";
    const targetId = field(ids.target)?.selected_option?.value ?? "";
    const picked = scopesPicked(
      targetId,
      (field(ids.scopes)?.selected_options ?? []).map((o) => o.value),
    );
    // The same fields either way; a break-glass is parsed with its own schema and use case.
    const breakGlass = (field(ids.breakGlass)?.selected_options ?? []).some(
      (o) => o.value === BREAK_GLASS_VALUE,
    );
    const scopeProblem =
      "problem" in picked
        ? picked.problem
        : breakGlass && picked.scopes.length > 0
          ? "a break-glass takes the target's default scopes; leave scopes empty"
          : undefined;
    if (scopeProblem !== undefined || "problem" in picked) {
      await ack({ response_action: "errors", errors: { [ids.scopes.block]: scopeProblem ?? "" } });
      return;
    }
    const parsed = (breakGlass ? breakGlassInput : requestAccessInput).safeParse({
      targetId,
      durationSeconds: Number(field(ids.duration)?.selected_option?.value ?? Number.NaN),
      reason: field(ids.reason)?.value ?? "",
      ...(ticket.trim() ? { ticket } : {}),
      ...(picked.scopes.length > 0 ? { scopes: picked.scopes } : {}),
    });
    if (!parsed.success) {
      const errors: Record<string, string> = {};
      for (const issue of parsed.error.issues) {
        const block = BLOCK_OF_FIELD[String(issue.path[0])] ?? ids.target.block;
        errors[block] ??= issue.message;
      }
      await ack({ response_action: "errors", errors });
      return;
    }
    try {
      const principal = await identity.principalFor(body.user.id);
      if (breakGlass) await broker.requests.breakGlass(principal, parsed.data);
      else await broker.requests.create(principal, parsed.data);
      await ack();
    } catch (error) {
      const message = explain(error, log);
      const block = /duration|seconds/i.test(message)
        ? ids.duration.block
        : /ticket/i.test(message)
          ? ids.ticket.block
          : /break[- ]glass/i.test(message)
            ? ids.breakGlass.block
            : /scope/i.test(message)
              ? ids.scopes.block
              : ids.target.block;
      await ack({ response_action: "errors", errors: { [block]: message.slice(0, 150) } });
    }
  });
}
