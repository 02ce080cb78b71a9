import type { AccessRequest, Grant } from "@leasehold/domain";
import { describe, expect, it } from "vitest";
import { renderAppHome } from "./app-home.js";
import { renderGrantedDm, renderPreApprovalAlert, renderReminderDm } from "./dm-messages.js";
import { type RequestCard, renderRequestMessage } from "./request-message.js";
import { renderDenyModal, renderRequestModal } from "./request-modal.js";
import { SLACK_IDS } from "./slack-ids.js";
import { SLACK_LIMITS } from "./slack-text.js";

const request: AccessRequest = {
  id: "0b7e4a8e-8a39-4b8e-9d8f-0c1d2e3f4a5b",
  targetId: "prod-readonly",
  requesterId: "dev@example.com",
  reason: "investigate INC-1",
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

const card = (overrides: Partial<RequestCard> = {}): RequestCard => ({
  request,
  targetDescription: "Read-only production",
  approvals: [],
  needed: 2,
  deniedBy: null,
  denyComment: null,
  ...overrides,
});

/** Every text a message or view would show, to check escaping and lengths. */
const texts = (value: unknown): string[] =>
  typeof value === "string"
    ? [value]
    : Array.isArray(value)
      ? value.flatMap(texts)
      : value && typeof value === "object"
        ? Object.entries(value).flatMap(([key, v]) =>
            key === "text" ||
            key === "fields" ||
            key === "elements" ||
            key === "blocks" ||
            key === "accessory"
              ? texts(v)
              : [],
          )
        : [];

describe("the request message", () => {
  it("shows Approve and Deny only while pending, with the request id as their value", () => {
    const pending = renderRequestMessage(card());
    const actions = pending.blocks.find((b) => b.type === "actions");
    expect(JSON.stringify(actions)).toContain(SLACK_IDS.actions.approve);
    expect(JSON.stringify(actions)).toContain(`"value":"${request.id}"`);
    const approved = renderRequestMessage(
      card({
        request: { ...request, state: "approved" },
        approvals: ["alice@example.com", "bob@example.com"],
        needed: 0,
      }),
    );
    expect(approved.blocks.some((b) => b.type === "actions")).toBe(false);
    expect(JSON.stringify(approved.blocks)).toContain("Approved by alice@example.com, bob@example.com");
  });

  it("escapes user text so it cannot mention everyone or forge a link", () => {
    const hostile = renderRequestMessage(
      card({ request: { ...request, reason: "<!channel> see <https://evil.example|docs> & more" } }),
    );
    const all = JSON.stringify(hostile.blocks);
    expect(all).not.toContain("<!channel>");
    expect(all).not.toContain("<https://evil");
    expect(all).toContain("&lt;!channel&gt;");
    expect(all).toContain("&amp; more");
  });

  it("keeps every section within Slack's limits, whatever the user typed", () => {
    const long = renderRequestMessage(
      card({
        request: { ...request, reason: "&".repeat(1000), ticket: "T".repeat(128) },
        denyComment: "<".repeat(500),
      }),
    );
    expect(long.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.messageBlocks);
    for (const text of texts(long.blocks))
      expect([...text].length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
  });
});

describe("direct messages", () => {
  it("tell the requester how to fetch credentials, and carry none", () => {
    const dm = renderGrantedDm({
      grantId: "g-1",
      targetId: "prod",
      expiresAt: new Date("2026-11-23T11:00:00Z"),
    });
    expect(dm.text).toContain("leasehold creds g-1");
    expect(JSON.stringify(dm)).not.toMatch(/secret|sessionToken|ASIA/i);
  });

  it("offer Extend only when policy leaves room", () => {
    const at = new Date("2026-11-23T11:00:00Z");
    expect(
      JSON.stringify(renderReminderDm({ grantId: "g", targetId: "t", expiresAt: at, extendBySeconds: 1800 })),
    ).toContain(SLACK_IDS.actions.extend);
    expect(
      JSON.stringify(renderReminderDm({ grantId: "g", targetId: "t", expiresAt: at, extendBySeconds: 0 })),
    ).not.toContain(SLACK_IDS.actions.extend);
  });
});

describe("alerts", () => {
  it("a pre-approval names who, for what, when and how to revoke it, with the reason escaped", () => {
    const alert = renderPreApprovalAlert({
      preApprovalId: "0b7e4a8e-8a39-4b8e-9d8f-0c1d2e3f4a5b",
      targetId: "prod-readonly",
      principalId: "dev@example.com",
      approverId: "alice@example.com",
      startsAt: new Date("2026-12-24T22:00:00Z"),
      endsAt: new Date("2026-12-25T04:00:00Z"),
      reason: "maintenance <!channel> <https://evil.example|runbook>",
    });
    expect(alert.text).toBe(
      "alice@example.com pre-approved dev@example.com for prod-readonly from 2026-12-24T22:00:00.000Z to 2026-12-25T04:00:00.000Z.",
    );
    const shown = JSON.stringify(alert.blocks);
    expect(shown).toContain("leasehold preapprovals revoke 0b7e4a8e-8a39-4b8e-9d8f-0c1d2e3f4a5b");
    expect(shown).toContain("<!date^1798149600^");
    expect(shown).toContain("&lt;!channel&gt;");
    expect(shown).not.toContain("<!channel>");
    expect(shown).not.toContain("<https://evil");
  });
});

describe("views", () => {
  it("the request modal offers only the given targets and durations up to the longest maximum", () => {
    const modal = renderRequestModal([
      {
        id: "prod",
        description: "x".repeat(200),
        maxDurationSeconds: 3600,
        defaultDurationSeconds: 1800,
        ticketRequired: false,
      },
    ]);
    expect(modal.title.text.length).toBeLessThanOrEqual(SLACK_LIMITS.modalTitle);
    const json = JSON.stringify(modal);
    expect(json).toContain('"value":"prod"');
    expect(json).toContain('"value":"3600"');
    expect(json).not.toContain('"value":"7200"');
  });

  it("the deny modal carries the request id", () => {
    expect(
      renderDenyModal({ requestId: request.id, targetId: "prod", requesterId: "dev" }).private_metadata,
    ).toBe(request.id);
  });

  it("App Home stays within a view's 100 blocks however much there is to show", () => {
    const grant = { id: "g", targetId: "prod", expiresAt: new Date(Date.now() + 60_000) } as Grant;
    const home = renderAppHome({
      activeGrants: Array.from({ length: 80 }, () => grant),
      myPending: Array.from({ length: 80 }, () => request),
      toReview: Array.from({ length: 80 }, () => request),
      now: new Date(),
    });
    expect(home.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.viewBlocks);
  });
});
