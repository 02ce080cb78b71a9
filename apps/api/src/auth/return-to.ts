/**
 * Where a sign-in may send the browser back to: a path on this site only. "//host" and "/\host"
 * are other sites to a browser; control characters and over-long paths are refused too.
 */
export function safeReturnTo(value: unknown): string | undefined {
  if (value === undefined) return "/";
  if (typeof value !== "string" || value.length === 0 || value.length > 2048) return undefined;
  if (!value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return undefined;
  return value;
}
