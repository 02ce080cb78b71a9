/**
 * Block Kit (as the bot sends it to the Slack stand-in) reduced to plain parts the console renders as
 * text: mrkdwn is shown as its text, never interpreted as HTML; buttons become labels of disabled buttons.
 * Input is untrusted JSON, so every field is read defensively.
 */
export type RenderedBlock =
  | { readonly kind: "header"; readonly text: string }
  | { readonly kind: "section"; readonly text: string; readonly fields: readonly string[] }
  | { readonly kind: "context"; readonly items: readonly string[] }
  | { readonly kind: "actions"; readonly buttons: readonly string[] }
  | { readonly kind: "divider" }
  | { readonly kind: "unsupported"; readonly type: string };

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Slack's escapes and link syntax, made readable: `<url|label>` → `label (url)`, `<@U1>` → `@U1`. */
export function mrkdwnToPlain(text: string): string {
  return text
    .replace(/<([^<>|]+)\|([^<>]+)>/g, (_all, url: string, label: string) => `${label} (${url})`)
    .replace(/<([@#!][^<>]+)>/g, "$1")
    .replace(/<([^<>]+)>/g, "$1")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

/** A text object's text (plain_text or mrkdwn), or "" when the value is not one. */
function textOf(value: unknown): string {
  if (!isObject(value) || typeof value.text !== "string") return "";
  return value.type === "mrkdwn" ? mrkdwnToPlain(value.text) : value.text;
}

function elementText(element: unknown): string {
  if (!isObject(element)) return "";
  if (element.type === "image") return typeof element.alt_text === "string" ? element.alt_text : "";
  return textOf(element);
}

function renderOne(block: unknown): RenderedBlock {
  if (!isObject(block)) return { kind: "unsupported", type: "unknown" };
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
  switch (block.type) {
    case "header":
      return { kind: "header", text: textOf(block.text) };
    case "section":
      return { kind: "section", text: textOf(block.text), fields: list(block.fields).map(textOf) };
    case "context":
      return { kind: "context", items: list(block.elements).map(elementText).filter(Boolean) };
    case "actions":
      return {
        kind: "actions",
        buttons: list(block.elements)
          .filter((e) => isObject(e) && e.type === "button")
          .map((e) => (isObject(e) ? textOf(e.text) : "")),
      };
    case "divider":
      return { kind: "divider" };
    default:
      return { kind: "unsupported", type: typeof block.type === "string" ? block.type : "unknown" };
  }
}

/** At most this many blocks per message are rendered (Slack's own limit is 50). */
export const MAX_BLOCKS = 50;

export const renderBlocks = (blocks: readonly unknown[]): RenderedBlock[] =>
  blocks.slice(0, MAX_BLOCKS).map(renderOne);

function blockText(b: RenderedBlock): string {
  switch (b.kind) {
    case "header":
      return b.text;
    case "section":
      return [b.text, ...b.fields].filter(Boolean).join("\n");
    case "context":
      return b.items.join(" · ");
    case "actions":
      return b.buttons.map((label) => `[${label}]`).join(" ");
    case "divider":
      return "---";
    case "unsupported":
      return `(${b.type} block)`;
  }
}

/** The message as lines of text: what a screen reader or a test reads. */
export const blocksToText = (blocks: readonly unknown[]): string =>
  renderBlocks(blocks).map(blockText).join("\n");
