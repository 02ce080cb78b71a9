import type { TokenRejectionReason } from "@leasehold/domain";

/**
 * The metric's reason for a refused token, from the verifier's message (token-verifier.ts writes
 * them; token-rejection.test.ts pins each to its reason). First match wins; the order matters where
 * messages share words ("issuer" in "the identity provider … keys").
 */
const REASONS: readonly (readonly [RegExp, TokenRejectionReason])[] = [
  [/could not be reached|could not be fetched|unusable discovery document/, "idp_unreachable"],
  [/empty or too large|not a JWT/, "malformed"],
  [/issuer is not trusted/, "untrusted_issuer"],
  [/\(audience\)/, "wrong_audience"],
  [/has expired|lifetime of more than|not valid yet|issued in the future/, "expired"],
  [/signature is not valid|signed with/, "bad_signature"],
  [/claim|subject|email/, "bad_claims"],
];

export function tokenRejectionReason(message: string): TokenRejectionReason {
  for (const [pattern, reason] of REASONS) if (pattern.test(message)) return reason;
  return "other";
}
