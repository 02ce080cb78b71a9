/**
 * Slack's limits and escaping, in one place. Every piece of user text that reaches Slack goes through
 * `userText` (escaped, then cut to fit), so a reason cannot mention @channel, forge a link or break a
 * block's length limit.
 */
export const SLACK_LIMITS = {
  sectionText: 3000,
  fieldText: 2000,
  headerText: 150,
  buttonText: 75,
  optionText: 75,
  modalTitle: 24,
  actionId: 255,
  buttonValue: 2000,
  messageText: 40_000,
  messageBlocks: 50,
  viewBlocks: 100,
  privateMetadata: 3000,
} as const;

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export const escapeMrkdwn = (text: string): string =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

/**
 * Cuts text to `max` characters (code points), marking the cut with an ellipsis. An entity the cut
 * would go through (`&amp;`, `&lt;`, `&gt;`) is dropped whole: half of one would show as a stray `&`.
 */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  const kept = chars
    .slice(0, max - 1)
    .join("")
    .replace(/&(?:a|am|amp|l|lt|g|gt)?$/, "");
  return `${kept}…`;
}

/**
 * User or identity text for anything Slack parses as mrkdwn, the top-level `text` of a message
 * included: escaped, then cut to fit `max`.
 */
export const userText = (text: string, max: number): string => truncate(escapeMrkdwn(text), max);

/** A time Slack shows in each reader's own time zone, with an ISO fallback. */
export function slackTime(at: Date): string {
  const epoch = Math.floor(at.getTime() / 1000);
  return `<!date^${epoch}^{date_short_pretty} {time}|${at.toISOString()}>`;
}

/** 5400 → "1h 30m". */
export function humanDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds % 3600) / 60);
  return [h > 0 ? `${h}h` : "", m > 0 ? `${m}m` : ""].filter(Boolean).join(" ") || `${seconds}s`;
}
