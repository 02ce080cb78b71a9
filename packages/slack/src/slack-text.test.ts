import type { AccessRequest } from "@leasehold/domain";
import { describe, expect, it } from "vitest";
import { renderAuditSinkFailingAlert } from "./audit-sink-alert.js";
import {
  renderDecisionDm,
  renderEndedDm,
  renderGrantedDm,
  renderReminderDm,
  renderRevocationCutoffAlert,
  renderRevocationDebtAlert,
  renderRotationFailedAlert,
} from "./dm-messages.js";
import { renderRequestMessage } from "./request-message.js";
import { SLACK_LIMITS, userText } from "./slack-text.js";

/** Every `&` starts one of the three entities Slack decodes: nothing was cut through one. */
const entitiesWhole = (text: string) => expect(text.replaceAll(/&(?:amp|lt|gt);/g, "")).not.toContain("&");

describe("user text is cut without splitting an entity", () => {
  it("drops an entity the cut would split, whole", () => {
    // Escaped: "aaaaaaaa&amp;b" (14 characters); 9 characters and the ellipsis would end in "&".
    expect(userText("aaaaaaaa&b", 10)).toBe("aaaaaaaa…");
    expect(userText("aaaaaaa<b", 10)).toBe("aaaaaaa…");
    expect(userText("aaaaa>bcdefgh", 10)).toBe("aaaaa&gt;…");
    expect(userText("aaaa>bcdefgh", 10)).toBe("aaaa&gt;b…");
  });

  it("never splits &amp;, &lt; or &gt; at any length, and stays within the limit", () => {
    const input = "<!channel> & <@U0123ABCD> a&b<c>d &amp; &lt;".repeat(3);
    for (let max = 2; max <= 120; max++) {
      const cut = userText(input, max);
      expect([...cut].length).toBeLessThanOrEqual(max);
      entitiesWhole(cut);
      expect(cut).not.toMatch(/[<>]/);
    }
  });

  it("counts characters, not UTF-16 units, and keeps an emoji whole", () => {
    expect(userText("🔑".repeat(20), 5)).toBe("🔑🔑🔑🔑…");
  });
});

describe("the notification text of every message is escaped like its blocks", () => {
  const hostile = "<!channel>@example.com";
  const request: AccessRequest = {
    id: "0b7e4a8e-8a39-4b8e-9d8f-0c1d2e3f4a5b",
    targetId: "prod<!here>",
    requesterId: hostile,
    reason: "<!everyone> please",
    ticket: "OPS-1",
    durationSeconds: 3600,
    scopes: [],
    requiredApprovals: 2,
    state: "pending",
    createdAt: new Date("2026-11-23T10:00:00Z"),
    pendingUntil: new Date("2026-11-24T10:00:00Z"),
    decidedAt: null,
    escalationLevel: 0,
    escalateAt: null,
    breakGlass: false,
  };
  const at = new Date("2026-11-23T12:00:00Z");
  const messages = {
    approved: renderDecisionDm({
      targetId: request.targetId,
      outcome: "approved",
      by: [hostile],
      comment: null,
    }),
    denied: renderDecisionDm({
      targetId: request.targetId,
      outcome: "denied",
      by: [hostile],
      comment: "<!here>",
    }),
    granted: renderGrantedDm({ grantId: request.id, targetId: request.targetId, expiresAt: at }),
    reminder: renderReminderDm({
      grantId: request.id,
      targetId: request.targetId,
      expiresAt: at,
      extendBySeconds: 0,
    }),
    expired: renderEndedDm({ targetId: request.targetId, how: "expired", detail: null }),
    failed: renderEndedDm({ targetId: request.targetId, how: "failed", detail: "<!channel>" }),
    rotation: renderRotationFailedAlert({
      rotationId: "<!here>",
      step: "set<!here>",
      error: "<x>",
      rolledBack: true,
    }),
    debt: renderRevocationDebtAlert({
      grantId: request.id,
      targetId: request.targetId,
      principalId: hostile,
      error: "<!channel>",
    }),
    cutoff: renderRevocationCutoffAlert({
      role: "arn:aws:iam::1:role/<!channel>",
      cutoffAt: new Date("2026-12-05T11:58:00Z"),
      revocations: 300,
      kept: 2,
      ended: 1,
    }),
    sink: renderAuditSinkFailingAlert({
      sink: "<!here>",
      failingSince: new Date("2026-12-05T11:58:00Z"),
      error: "HEC code 9: <!channel>",
      behindEvents: 12,
    }),
    request: renderRequestMessage({
      request,
      targetDescription: "",
      approvals: [hostile],
      needed: 1,
      deniedBy: null,
      denyComment: null,
    }),
  };

  it.each(Object.entries(messages))("%s", (_name, message) => {
    // The top-level text is what notifications and screen readers show: mrkdwn, parsed by Slack.
    expect(message.text).not.toMatch(/<!(?:channel|here|everyone)>/);
    expect(message.text).toMatch(/&lt;!(?:channel|here|everyone)&gt;/);
    // Nothing anywhere in the message mentions anyone; only Leasehold's own <!date^…> remains.
    const all = JSON.stringify(message).replaceAll(/<!date\^[^>]*>/g, "");
    expect(all).not.toMatch(/<[!@#]/);
  });

  it("cuts a long notification text without splitting an entity", () => {
    const message = renderDecisionDm({
      targetId: "prod",
      outcome: "approved",
      by: Array.from({ length: 400 }, (_, i) => `a${i}&<>@example.com`),
      comment: null,
    });
    expect([...message.text].length).toBeLessThanOrEqual(3000);
    entitiesWhole(message.text);
    const channelMessage = renderRequestMessage({
      request: { ...request, requesterId: "&".repeat(SLACK_LIMITS.messageText) },
      targetDescription: "",
      approvals: [],
      needed: 1,
      deniedBy: null,
      denyComment: null,
    });
    expect([...channelMessage.text].length).toBeLessThanOrEqual(SLACK_LIMITS.messageText);
    entitiesWhole(channelMessage.text);
  });
});
