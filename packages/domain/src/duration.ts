import { z } from "zod";

const UNIT_SECONDS = { d: 86_400, h: 3_600, m: 60, s: 1 } as const;
const DURATION_PATTERN = /^(?:(\d{1,4})d)?(?:(\d{1,5})h)?(?:(\d{1,6})m)?(?:(\d{1,7})s)?$/;

/**
 * Parses a human duration such as `90s`, `15m`, `1h30m` or `7d` into whole seconds.
 * Returns undefined for anything else (including an empty string and `0`-free garbage).
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match || match[0] === "") return undefined;
  const [, d, h, m, s] = match;
  return (
    Number(d ?? 0) * UNIT_SECONDS.d +
    Number(h ?? 0) * UNIT_SECONDS.h +
    Number(m ?? 0) * UNIT_SECONDS.m +
    Number(s ?? 0) * UNIT_SECONDS.s
  );
}

/** Formats whole seconds as the shortest human duration: 5400 → `1h30m`. */
export function formatDuration(totalSeconds: number): string {
  if (totalSeconds <= 0) return "0s";
  let rest = Math.floor(totalSeconds);
  let out = "";
  for (const [unit, size] of Object.entries(UNIT_SECONDS)) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}

const DURATION_HINT = "write it like 90s, 15m, 1h or 1h30m";

/** A duration written as `1h30m` or as a whole number of seconds, parsed to seconds (1 s to 31 days). */
export const durationSchema = z.unknown().transform((value, ctx): number => {
  if (value === undefined) {
    ctx.addIssue({ code: "custom", message: `this field is required; ${DURATION_HINT}` });
    return z.NEVER;
  }
  const seconds =
    typeof value === "number"
      ? value
      : typeof value === "string" && value.length <= 32
        ? parseDuration(value)
        : undefined;
  if (seconds === undefined || !Number.isInteger(seconds) || seconds < 1 || seconds > 31 * 86_400) {
    const shown = typeof value === "string" ? `"${value.slice(0, 32)}"` : String(value);
    ctx.addIssue({
      code: "custom",
      message: `${shown} is not a duration between 1s and 31d; ${DURATION_HINT}`,
    });
    return z.NEVER;
  }
  return seconds;
});
