import { MAX_SCOPES_PER_REQUEST } from "@leasehold/domain";
import type { KnownBlock, ModalView, PlainTextOption } from "@slack/types";
import { SLACK_IDS } from "./slack-ids.js";
import { humanDuration, SLACK_LIMITS, truncate } from "./slack-text.js";

/** A target as the request modal offers it. */
export type RequestableTarget = {
  readonly id: string;
  readonly description: string;
  readonly maxDurationSeconds: number;
  readonly defaultDurationSeconds: number;
  readonly ticketRequired: boolean;
  /** The scopes it offers; a request naming none gets `defaultScopes`. */
  readonly scopes?: readonly { readonly name: string; readonly description: string }[];
  readonly defaultScopes?: readonly string[];
};

/** A scope option's value: the target and the scope, as one multi-select serves every target. */
const scopeValue = (targetId: string, scope: string) => `${targetId}/${scope}`;

/**
 * The scopes picked in the modal for the chosen target, or why they cannot be used. Slack offers one
 * multi-select for all targets (grouped by target), so a pick from another target is refused here.
 */
export function scopesPicked(
  targetId: string,
  values: readonly string[],
): { scopes: string[] } | { problem: string } {
  const scopes: string[] = [];
  for (const value of values) {
    const slash = value.indexOf("/");
    if (value.slice(0, slash) !== targetId) return { problem: `pick only scopes listed under ${targetId}` };
    scopes.push(value.slice(slash + 1));
  }
  return { scopes };
}

/** The optional scopes input, grouped by target; absent when no target offers scopes. */
function scopesInput(targets: readonly RequestableTarget[]): KnownBlock[] {
  const groups = targets
    .filter((t) => (t.scopes?.length ?? 0) > 0)
    .slice(0, 100)
    .map((t) => ({
      label: { type: "plain_text" as const, text: truncate(t.id, SLACK_LIMITS.optionText) },
      options: (t.scopes ?? [])
        .slice(0, 100)
        .map((scope) =>
          option(
            `${scope.name}${t.defaultScopes?.includes(scope.name) ? " (default)" : ""}${
              scope.description ? `: ${scope.description}` : ""
            }`,
            scopeValue(t.id, scope.name),
          ),
        ),
    }));
  if (groups.length === 0) return [];
  return [
    {
      type: "input",
      block_id: SLACK_IDS.requestInputs.scopes.block,
      optional: true,
      label: { type: "plain_text", text: "Scopes" },
      hint: {
        type: "plain_text",
        text: "Only what the job needs, from the target you chose. None: the target's defaults.",
      },
      element: {
        type: "multi_static_select",
        action_id: SLACK_IDS.requestInputs.scopes.action,
        option_groups: groups,
        max_selected_items: MAX_SCOPES_PER_REQUEST,
      },
    },
  ];
}

/** Durations offered; each target's maximum is checked again when the modal is submitted. */
const DURATION_LADDER = [900, 1800, 3600, 7200, 14_400, 28_800, 43_200];

const option = (text: string, value: string): PlainTextOption => ({
  text: { type: "plain_text", text: truncate(text, SLACK_LIMITS.optionText) },
  value,
});

/** The request modal's break-glass option: its label and the value a submission carries when ticked. */
export const BREAK_GLASS_LABEL = "Break glass (no approval; broadcast and reviewed)";
export const BREAK_GLASS_VALUE = "break-glass";

/** The modal behind `/access`, the shortcut and the App Home button: only targets the user may request. */
export function renderRequestModal(targets: readonly RequestableTarget[]): ModalView {
  const ids = SLACK_IDS.requestInputs;
  const longest = Math.max(...targets.map((t) => t.maxDurationSeconds), 900);
  const durations = DURATION_LADDER.filter((d) => d <= longest).map((d) =>
    option(humanDuration(d), String(d)),
  );
  const first = targets[0];
  const defaultDuration = durations.find((d) => d.value === String(first?.defaultDurationSeconds));
  const targetOptions = targets
    .slice(0, 100)
    .map((t) => option(t.description ? `${t.id}: ${t.description}` : t.id, t.id));
  return {
    type: "modal",
    callback_id: SLACK_IDS.views.request,
    title: { type: "plain_text", text: "Request access" },
    submit: { type: "plain_text", text: "Request" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      {
        type: "input",
        block_id: ids.target.block,
        label: { type: "plain_text", text: "Target" },
        element: {
          type: "static_select",
          action_id: ids.target.action,
          options: targetOptions,
          ...(targets.length === 1 && targetOptions[0] ? { initial_option: targetOptions[0] } : {}),
        },
      },
      {
        type: "input",
        block_id: ids.duration.block,
        label: { type: "plain_text", text: "For how long" },
        hint: {
          type: "plain_text",
          text: "Each target has its own maximum; Leasehold checks it when you submit.",
        },
        element: {
          type: "static_select",
          action_id: ids.duration.action,
          options: durations,
          ...(defaultDuration ? { initial_option: defaultDuration } : {}),
        },
      },
      {
        type: "input",
        block_id: ids.reason.block,
        label: { type: "plain_text", text: "Reason" },
        element: {
          type: "plain_text_input",
          action_id: ids.reason.action,
          multiline: true,
          min_length: 3,
          max_length: 1000,
        },
      },
      {
        type: "input",
        block_id: ids.ticket.block,
        optional: !targets.some((t) => t.ticketRequired),
        label: { type: "plain_text", text: "Ticket" },
        element: { type: "plain_text_input", action_id: ids.ticket.action, max_length: 128 },
      },
      ...scopesInput(targets),
      {
        // Only people a target's policy allows may break glass; anyone else is refused on submit.
        type: "input",
        block_id: ids.breakGlass.block,
        optional: true,
        label: { type: "plain_text", text: "Emergency" },
        hint: {
          type: "plain_text",
          text: "Access starts at once, capped at the target's break-glass maximum; it is announced to the alerts channel and the approvers, and must be reviewed afterwards.",
        },
        element: {
          type: "checkboxes",
          action_id: ids.breakGlass.action,
          options: [option(BREAK_GLASS_LABEL, BREAK_GLASS_VALUE)],
        },
      },
    ],
  };
}

/** Asks why, before a denial is recorded. The request id travels in private_metadata. */
export function renderDenyModal(input: {
  requestId: string;
  targetId: string;
  requesterId: string;
}): ModalView {
  return {
    type: "modal",
    callback_id: SLACK_IDS.views.deny,
    private_metadata: input.requestId,
    title: { type: "plain_text", text: "Deny request" },
    submit: { type: "plain_text", text: "Deny" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      {
        type: "section",
        text: {
          type: "plain_text",
          text: truncate(
            `Deny ${input.requesterId}'s request for ${input.targetId}?`,
            SLACK_LIMITS.sectionText,
          ),
        },
      },
      {
        type: "input",
        block_id: SLACK_IDS.denyInputs.comment.block,
        label: { type: "plain_text", text: "Why" },
        element: {
          type: "plain_text_input",
          action_id: SLACK_IDS.denyInputs.comment.action,
          multiline: true,
          max_length: 500,
        },
      },
    ],
  };
}
