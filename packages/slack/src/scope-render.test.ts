import type { AccessRequest } from "@leasehold/domain";
import { describe, expect, it } from "vitest";
import { type RequestCard, renderRequestMessage } from "./request-message.js";
import { type RequestableTarget, renderRequestModal, scopesPicked } from "./request-modal.js";
import { SLACK_IDS } from "./slack-ids.js";

/** Scopes in Slack: the requester picks them in the modal; the approvers see exactly which were asked. */

const request: AccessRequest = {
  id: "0b7e4a8e-8a39-4b8e-9d8f-0c1d2e3f4a5b",
  targetId: "prod-ops",
  requesterId: "dev@example.com",
  reason: "restart orders",
  ticket: null,
  durationSeconds: 3600,
  scopes: ["read-logs", "restart-orders"],
  requiredApprovals: 1,
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
  targetDescription: "Operate production",
  scopes: [
    { name: "read-logs", description: "Read CloudWatch logs" },
    { name: "restart-orders", description: "Restart the <!channel> orders service" },
  ],
  approvals: [],
  needed: 1,
  deniedBy: null,
  denyComment: null,
  ...overrides,
});

const target = (id: string, scopes: RequestableTarget["scopes"] = []): RequestableTarget => ({
  id,
  description: "",
  maxDurationSeconds: 3600,
  defaultDurationSeconds: 1800,
  ticketRequired: false,
  scopes,
  defaultScopes: scopes.length > 0 ? [scopes[0]?.name ?? ""] : [],
});

describe("the approvers' message", () => {
  it("shows each scope asked, by name and description, escaped", () => {
    const { text, blocks } = renderRequestMessage(card());
    const section = JSON.stringify(blocks.find((b) => b.block_id === "scopes"));
    expect(section).toContain("*Scopes asked*");
    expect(section).toContain("• `read-logs` Read CloudWatch logs");
    expect(section).toContain("• `restart-orders` Restart the &lt;!channel&gt; orders service");
    expect(section).not.toContain("<!channel>");
    expect(text).toContain("prod-ops (read-logs, restart-orders)");
  });

  it("shows a scope without its description when the target no longer describes it", () => {
    const section = JSON.stringify(
      renderRequestMessage({ ...card(), scopes: [] }).blocks.find((b) => b.block_id === "scopes"),
    );
    expect(section).toContain("• `read-logs`\\n• `restart-orders`");
  });

  it("has no scopes section for a request that asked for none", () => {
    const { blocks } = renderRequestMessage(card({ request: { ...request, scopes: [] } }));
    expect(blocks.some((b) => b.block_id === "scopes")).toBe(false);
  });
});

describe("the request modal", () => {
  it("offers the scopes grouped by target, marking defaults, and is optional", () => {
    const modal = renderRequestModal([
      target("prod-ops", [
        { name: "read-logs", description: "Read CloudWatch logs" },
        { name: "restart-orders", description: "x".repeat(200) },
      ]),
      target("plain"),
    ]);
    const block = modal.blocks.find((b) => b.block_id === SLACK_IDS.requestInputs.scopes.block);
    expect(block).toMatchObject({ type: "input", optional: true });
    const element = (
      block as {
        element: {
          type: string;
          option_groups: { label: { text: string }; options: { text: { text: string }; value: string }[] }[];
        };
      }
    ).element;
    expect(element.type).toBe("multi_static_select");
    expect(element.option_groups.map((g) => g.label.text)).toEqual(["prod-ops"]);
    expect(element.option_groups[0]?.options.map((o) => o.value)).toEqual([
      "prod-ops/read-logs",
      "prod-ops/restart-orders",
    ]);
    expect(element.option_groups[0]?.options[0]?.text.text).toBe("read-logs (default): Read CloudWatch logs");
    expect(element.option_groups[0]?.options[1]?.text.text.length).toBeLessThanOrEqual(75);
  });

  it("has no scopes input when no target offers any", () => {
    const modal = renderRequestModal([target("plain")]);
    expect(modal.blocks.some((b) => b.block_id === SLACK_IDS.requestInputs.scopes.block)).toBe(false);
  });

  it("takes the picks of the chosen target only", () => {
    expect(scopesPicked("prod-ops", ["prod-ops/read-logs", "prod-ops/restart-orders"])).toEqual({
      scopes: ["read-logs", "restart-orders"],
    });
    expect(scopesPicked("prod-ops", [])).toEqual({ scopes: [] });
    expect(scopesPicked("prod-ops", ["other/read-logs"])).toEqual({
      problem: "pick only scopes listed under prod-ops",
    });
    expect(scopesPicked("prod", ["prod-ops/read-logs"])).toMatchObject({ problem: expect.any(String) });
  });
});
