import { z } from "zod";

// C0/C1 control characters (newline handled separately) and the Unicode bidirectional overrides
// used in "Trojan Source" style spoofing. User text with these is refused, not cleaned, so what an
// approver reads is exactly what the requester typed.
const CONTROL = /\p{Cc}/u;
const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u;
// Characters a reader cannot see, which let two texts that look the same differ (or smuggle
// instructions past a reviewer): zero-width space/joiners, word joiner, zero-width no-break space
// (BOM), and the Unicode tag characters. U+2028/U+2029 break lines in JavaScript and in Slack without
// being a newline, so the one-line check above would miss them.
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF\u2028\u2029\u{E0000}-\u{E007F}]/u;
// Half of a UTF-16 surrogate pair on its own (JSON can carry one as "\ud800"): not a character at
// all; it becomes U+FFFD or an encoding error wherever the text is stored or sent.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Bounded free text from a person: trimmed, `min`..`max` characters, no control characters
 * (newlines only when `multiline`), no bidirectional overrides, no invisible characters and no lone
 * UTF-16 surrogates. Every text field of every edge is built from this, so each refusal names the field.
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
    })
    .refine((text) => !LONE_SURROGATE.test(text), {
      message: `${label} must not contain malformed Unicode (an unpaired surrogate)`,
    })
    .refine((text) => !INVISIBLE.test(text), {
      message: `${label} must not contain invisible characters (zero-width, tag, or line/paragraph separators)`,
    });
}
