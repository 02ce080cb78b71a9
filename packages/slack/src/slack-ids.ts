/** Constant ids Leasehold's Slack app uses; listeners and render functions share them. */
export const SLACK_IDS = {
  command: "/access",
  shortcut: "leasehold_request_access",
  actions: {
    approve: "leasehold_approve",
    deny: "leasehold_deny",
    extend: "leasehold_extend",
    revoke: "leasehold_revoke",
    openRequest: "leasehold_open_request",
    breakGlassJustified: "leasehold_break_glass_justified",
    breakGlassUnjustified: "leasehold_break_glass_unjustified",
  },
  views: {
    request: "leasehold_request",
    deny: "leasehold_deny",
  },
  /** block_id/action_id pairs of the request modal's inputs. */
  requestInputs: {
    target: { block: "target", action: "target" },
    duration: { block: "duration", action: "duration" },
    reason: { block: "reason", action: "reason" },
    ticket: { block: "ticket", action: "ticket" },
    scopes: { block: "scopes", action: "scopes" },
    breakGlass: { block: "break_glass", action: "break_glass" },
  },
  denyInputs: { comment: { block: "comment", action: "comment" } },
} as const;
