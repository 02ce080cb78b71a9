import { z } from "zod";

// C0/C1 control characters (newline handled separately) and the Unicode bidirectional overrides
// used in "Trojan Source" style spoofing. User text with these is refused, not cleaned, so what an
// approver reads is exactly what the requester typed.
const CONTROL = /\p{Cc}/u;
const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u;

/**
 * Bounded free text from a person: trimmed, `min`..`max` characters, no control characters
 * (newlines only when `multiline`), no bidirectional overrides.
 */
export function boundedText(options: { min?: number; max: number; multiline?: boolean; label: string }) {
  const { min = 1, max, multiline = false, label } = options;
  return z
    .string()
    .trim()
    .min(min, `${label} must be at least ${min} character${min === 1 ? "" : "s"}`)
    .max(max, `${label} must be at most ${max} characters`)
    .refine((text) => !CONTROL.test(multiline ? text.replaceAll("\n", "") : text), {
      message: `${label} must not contain control characters${multiline ? "" : " or line breaks"}`,
    })
    .refine((text) => !BIDI.test(text), {
      message: `${label} must not contain bidirectional text overrides`,
    });
}
