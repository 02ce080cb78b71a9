import type { AccessRequest, BreakGlassCard } from "@leasehold/domain";
import { describe, expect, it } from "vitest";
import { renderBreakGlassDm, renderBreakGlassMessage } from "./break-glass-message.js";
import { BREAK_GLASS_LABEL, BREAK_GLASS_VALUE, renderRequestModal } from "./request-modal.js";
import { SLACK_IDS } from "./slack-ids.js";

const request: AccessRequest = {
  id: "0b7e4a8e-8a39-4b8e-9d8f-0c1d2e3f4a5b",
  targetId: "prod-admin",
  requesterId: "dev@example.com",
  reason: "checkout down <!channel> & <https://evil.example|click>",
  ticket: "INC-9",
  durationSeconds: 1800,
  requiredApprovals: 1,
  state: "approved",
  createdAt: new Date("2026-12-06T01:00:00Z"),
  pendingUntil: new Date("2026-12-06T01:00:00Z"),
  decidedAt: new Date("2026-12-06T01:00:00Z"),
  escalationLevel: 0,
  escalateAt: null,
  scopes: [],
  breakGlass: true,
};
const card = (review: BreakGlassCard["review"]): BreakGlassCard => ({
  request,
  targetDescription: "production admin",
  review,
});
const all = (message: { text: string; blocks: unknown[] }) =>
  `${message.text} ${JSON.stringify(message.blocks)}`;

describe("the break-glass broadcast", () => {
  it("says who, what, why and for how long, escaped, with both review buttons until it is reviewed", () => {
    const shown = all(renderBreakGlassMessage(card(null)));
    for (const part of ["Break-glass: prod-admin", "dev@example.com", "30m", "INC-9", "Review needed"]) {
      expect(shown).toContain(part);
    }
    expect(shown).toContain("&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;");
    expect(shown).not.toContain("<!channel>");
    expect(shown).toContain(SLACK_IDS.actions.breakGlassJustified);
    expect(shown).toContain(SLACK_IDS.actions.breakGlassUnjustified);
  });

  it("once reviewed shows the verdict, who gave it and why, and no buttons", () => {
    const shown = all(
      renderBreakGlassMessage(
        card({
          requestId: request.id,
          reviewerId: "alice@example.com",
          verdict: "unjustified",
          comment: "no incident open",
          reviewedAt: new Date("2026-12-06T02:00:00Z"),
        }),
      ),
    );
    expect(shown).toContain("Marked *unjustified* by alice@example.com");
    expect(shown).toContain("no incident open");
    expect(shown).not.toContain('"action_id"');
  });

  it("the approvers' DM says where and how to review, escaped", () => {
    const shown = all(
      renderBreakGlassDm({
        requestId: request.id,
        targetId: request.targetId,
        requesterId: request.requesterId,
        reason: request.reason,
        ticket: request.ticket,
        durationSeconds: request.durationSeconds,
        channels: ["C0ALERTS", "C0APPROVE"],
      }),
    );
    expect(shown).toContain("<#C0ALERTS> or <#C0APPROVE>");
    expect(shown).toContain(`leasehold break-glass review ${request.id} --justified`);
    expect(shown).not.toContain("<!channel>");
  });

  it("the request modal offers break-glass as an optional choice", () => {
    const modal = renderRequestModal([
      {
        id: "prod-admin",
        description: "",
        maxDurationSeconds: 3600,
        defaultDurationSeconds: 900,
        ticketRequired: false,
      },
    ]);
    const block = modal.blocks.find((b) => b.block_id === SLACK_IDS.requestInputs.breakGlass.block);
    expect(block).toMatchObject({
      type: "input",
      optional: true,
      element: {
        type: "checkboxes",
        options: [{ text: { text: BREAK_GLASS_LABEL }, value: BREAK_GLASS_VALUE }],
      },
    });
  });
});
