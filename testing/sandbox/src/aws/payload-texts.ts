import { parseQueryParams } from "./query-params.js";

/*
 * The strings a request or response body carries, decoded, so the stand-in can look for a secret in
 * them whatever the wire format: JSON string values, XML text, or form values.
 */

const unescapeXml = (text: string): string =>
  text
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'")
    .replaceAll("&amp;", "&");

function jsonStrings(value: unknown, into: string[] = []): string[] {
  if (typeof value === "string") into.push(value);
  else if (Array.isArray(value)) for (const item of value) jsonStrings(item, into);
  else if (typeof value === "object" && value !== null)
    for (const item of Object.values(value)) jsonStrings(item, into);
  return into;
}

/** A body and the strings decoded from it: JSON string values, XML text or form values. */
export function payloadTexts(text: string): string[] {
  if (text === "") return [];
  try {
    return [text, ...jsonStrings(JSON.parse(text))];
  } catch {
    return [text, ...(text.startsWith("<") ? [unescapeXml(text)] : parseQueryParams(text).values())];
  }
}
