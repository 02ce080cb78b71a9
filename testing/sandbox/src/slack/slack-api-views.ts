import { randomBytes } from "node:crypto";
import {
  type Args,
  type Handler,
  refusalWithMessages,
  requireArg,
  SlackRefusal,
  stringArg,
} from "./slack-api-args.js";
import { isRecord, SLACK_LIMITS, type ViewType, viewProblems } from "./slack-limits.js";
import { nextSequence, type SlackState, type StoredView } from "./slack-sandbox-state.js";
import { SLACK_SANDBOX_IDS } from "./slack-sandbox-types.js";

/** The views.* methods and the trigger ids they need (3 seconds, single use), as Slack checks them. */

/** A new trigger_id, shaped like Slack's (`<digits>.<digits>.<32 hex>`). */
export function issueTrigger(state: SlackState, userId: string | undefined): string {
  const digits = (count: number) => Array.from(randomBytes(count), (byte) => byte % 10).join("");
  const id = `${nextSequence(state)}${digits(11)}.${digits(11)}.${randomBytes(16).toString("hex")}`;
  state.triggers.set(id, {
    issuedAtMs: state.clock().getTime(),
    used: false,
    ...(userId === undefined ? {} : { userId }),
  });
  return id;
}

/**
 * The trigger a views.open/views.push names, checked in Slack's order: known, not exchanged before,
 * within 3 seconds of the interaction. The caller marks it used once the view is accepted.
 */
function usableTrigger(state: SlackState, args: Args, nowMs: number) {
  const id = requireArg(args, "trigger_id");
  const trigger = state.triggers.get(id);
  if (trigger === undefined) throw new SlackRefusal("invalid_trigger_id");
  if (trigger.used) throw new SlackRefusal("exchanged_trigger_id");
  if (nowMs - trigger.issuedAtMs >= SLACK_LIMITS.triggerLifetimeMs)
    throw new SlackRefusal("expired_trigger_id");
  return trigger;
}

function checkedView(args: Args, allowedTypes: readonly ViewType[]): Record<string, unknown> {
  const view = args.view;
  if (view === undefined)
    throw refusalWithMessages("invalid_arguments", ["missing required field: view"], false);
  const problems = viewProblems(view, allowedTypes);
  if (problems.length > 0 || !isRecord(view)) throw refusalWithMessages("invalid_arguments", problems, false);
  return view;
}

const newHash = (state: SlackState, now: Date) =>
  `${Math.floor(now.getTime() / 1000)}.${nextSequence(state).toString(16).padStart(8, "0")}`;

const nonEmpty = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

function refuseDuplicateExternalId(state: SlackState, externalId: string | undefined, ownId?: string): void {
  if (externalId !== undefined && state.views.some((v) => v.externalId === externalId && v.id !== ownId)) {
    throw new SlackRefusal("duplicate_external_id");
  }
}

/** The view as Slack returns it: the app's fields plus the ids, hash and state Slack adds. */
function renderView(state: SlackState, id: string, hash: string, view: Record<string, unknown>) {
  return {
    ...view,
    id,
    team_id: state.teamId,
    type: view.type,
    private_metadata: view.private_metadata ?? "",
    callback_id: view.callback_id ?? "",
    external_id: view.external_id ?? "",
    state: { values: {} },
    hash,
    clear_on_close: view.clear_on_close ?? false,
    notify_on_close: view.notify_on_close ?? false,
    root_view_id: id,
    previous_view_id: null,
    app_id: SLACK_SANDBOX_IDS.appId,
    app_installed_team_id: state.teamId,
    bot_id: SLACK_SANDBOX_IDS.botId,
  };
}

function createView(
  state: SlackState,
  now: Date,
  type: ViewType,
  view: Record<string, unknown>,
  userId?: string,
) {
  const externalId = nonEmpty(view.external_id);
  refuseDuplicateExternalId(state, externalId);
  const id = `V${nextSequence(state).toString(36).toUpperCase().padStart(8, "0")}`;
  const hash = newHash(state, now);
  const rendered = renderView(state, id, hash, view);
  const record: StoredView = {
    id,
    type,
    view: rendered,
    hash,
    updates: 0,
    ...(userId === undefined ? {} : { userId }),
    ...(externalId === undefined ? {} : { externalId }),
  };
  state.views.push(record);
  return rendered;
}

function replaceView(
  state: SlackState,
  now: Date,
  record: StoredView,
  view: Record<string, unknown>,
  hash?: string,
) {
  if (hash !== undefined && hash !== record.hash) throw new SlackRefusal("hash_conflict");
  const externalId = nonEmpty(view.external_id) ?? record.externalId;
  refuseDuplicateExternalId(state, externalId, record.id);
  record.hash = newHash(state, now);
  record.view = renderView(state, record.id, record.hash, {
    ...view,
    ...(externalId === undefined ? {} : { external_id: externalId }),
  });
  if (externalId !== undefined) record.externalId = externalId;
  record.updates += 1;
  return record.view;
}

export const openView =
  (allowed: readonly ViewType[]): Handler =>
  ({ state, args, now }) => {
    const trigger = usableTrigger(state, args, now.getTime());
    const view = checkedView(args, allowed);
    trigger.used = true;
    return { view: createView(state, now, "modal", view, trigger.userId) };
  };

export const viewsUpdate: Handler = ({ state, args, now }) => {
  const viewId = nonEmpty(args.view_id);
  const externalId = nonEmpty(args.external_id);
  if (viewId === undefined && externalId === undefined) {
    throw refusalWithMessages("invalid_arguments", ["must provide view_id or external_id"], false);
  }
  const record = state.views.find((v) =>
    viewId === undefined ? v.externalId === externalId : v.id === viewId,
  );
  if (record === undefined) throw new SlackRefusal("not_found");
  const view = checkedView(args, [record.type]);
  return { view: replaceView(state, now, record, view, stringArg(args, "hash")) };
};

/** One Home tab per user: the first publish creates it, later ones replace it under the same id. */
export const viewsPublish: Handler = ({ state, args, now }) => {
  const userId = requireArg(args, "user_id");
  if (!state.users.has(userId)) throw refusalWithMessages("invalid_arguments", ["invalid `user_id`"], false);
  const view = checkedView(args, ["home"]);
  const existing = state.views.find((v) => v.type === "home" && v.userId === userId);
  if (existing !== undefined)
    return { view: replaceView(state, now, existing, view, stringArg(args, "hash")) };
  return { view: createView(state, now, "home", view, userId) };
};
