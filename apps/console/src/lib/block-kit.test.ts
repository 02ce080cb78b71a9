import { describe, expect, it } from "vitest";
import { blocksToText, MAX_BLOCKS, mrkdwnToPlain, renderBlocks } from "./block-kit.js";

const requestMessage = [
  { type: "header", text: { type: "plain_text", text: "Access request" } },
  {
    type: "section",
    text: { type: "mrkdwn", text: "*<mailto:ann@example.com|Ann>* asks for `prod-db` &amp; more" },
    fields: [{ type: "mrkdwn", text: "*Ticket*\nOPS-1" }],
  },
  {
    type: "context",
    elements: [
      { type: "mrkdwn", text: "by <@U123>" },
      { type: "image", alt_text: "logo" },
    ],
  },
  { type: "divider" },
  {
    type: "actions",
    elements: [
      { type: "button", text: { type: "plain_text", text: "Approve" }, action_id: "approve" },
      { type: "button", text: { type: "plain_text", text: "Deny" }, action_id: "deny" },
      { type: "static_select" },
    ],
  },
];

describe("Block Kit rendering", () => {
  it("turns each supported block into plain parts", () => {
    expect(renderBlocks(requestMessage)).toEqual([
      { kind: "header", text: "Access request" },
      {
        kind: "section",
        text: "*Ann (mailto:ann@example.com)* asks for `prod-db` & more",
        fields: ["*Ticket*\nOPS-1"],
      },
      { kind: "context", items: ["by @U123", "logo"] },
      { kind: "divider" },
      { kind: "actions", buttons: ["Approve", "Deny"] },
    ]);
  });

  it("renders a message as text lines, buttons in brackets", () => {
    expect(blocksToText(requestMessage)).toBe(
      "Access request\n*Ann (mailto:ann@example.com)* asks for `prod-db` & more\n*Ticket*\nOPS-1\nby @U123 · logo\n---\n[Approve] [Deny]",
    );
  });

  it("keeps HTML in mrkdwn as text and names blocks it does not render", () => {
    expect(mrkdwnToPlain("&lt;script&gt;")).toBe("<script>");
    expect(renderBlocks([{ type: "input" }, null, "x"])).toEqual([
      { kind: "unsupported", type: "input" },
      { kind: "unsupported", type: "unknown" },
      { kind: "unsupported", type: "unknown" },
    ]);
  });

  it("survives malformed blocks and caps their number", () => {
    expect(renderBlocks([{ type: "section", text: 5, fields: "x" }])).toEqual([
      { kind: "section", text: "", fields: [] },
    ]);
    expect(renderBlocks(Array.from({ length: 80 }, () => ({ type: "divider" })))).toHaveLength(MAX_BLOCKS);
  });
});
