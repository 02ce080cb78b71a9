import { SpanKind, withSpan } from "@leasehold/tracing";
import type { App } from "@slack/bolt";

/** Action, callback and command names are constants of ours; anything else is recorded as `other`. */
const NAME = /^[A-Za-z0-9_/.:-]{1,64}$/;
const named = (value: unknown): string => (typeof value === "string" && NAME.test(value) ? value : "other");

/** What kind of interaction a Slack request is, and which of ours (never who, nor what they typed). */
function interactionOf(body: Record<string, unknown>): { type: string; action: string } {
  if (typeof body.command === "string") return { type: "command", action: named(body.command) };
  const type = named(body.type);
  if (type === "block_actions" && Array.isArray(body.actions)) {
    const first: unknown = body.actions[0];
    const actionId =
      typeof first === "object" && first !== null ? (first as { action_id?: unknown }).action_id : undefined;
    return { type, action: named(actionId) };
  }
  const view = body.view as { callback_id?: unknown } | undefined;
  if (view && (type === "view_submission" || type === "view_closed"))
    return { type, action: named(view.callback_id) };
  const event = body.event as { type?: unknown } | undefined;
  if (type === "event_callback" && event) return { type, action: named(event.type) };
  return { type, action: named(body.callback_id) };
}

/**
 * One span per Slack interaction (slash command, button, modal, event), around every listener that
 * handles it, so the use case it calls, its commit and the job it enqueues are one trace.
 */
export function traceInteractions(app: App): void {
  app.use(async ({ body, next }) => {
    const { type, action } = interactionOf(body as unknown as Record<string, unknown>);
    await withSpan(
      `slack ${type}`,
      { "leasehold.slack.type": type, "leasehold.slack.action": action },
      () => next(),
      { kind: SpanKind.SERVER },
    );
  });
}
