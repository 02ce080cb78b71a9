import { describe, expect, it } from "vitest";
import { tokenRejectionReason } from "./token-rejection.js";

describe("a refused token's reason, for the metric", () => {
  it.each([
    ["the bearer token is empty or too large", "malformed"],
    ["the bearer token is not a JWT", "malformed"],
    ["the token's issuer is not trusted", "untrusted_issuer"],
    ["the token is not meant for Leasehold (audience)", "wrong_audience"],
    ["the token has expired", "expired"],
    ["the token is not valid yet", "expired"],
    ["the token was issued in the future (is the identity provider's clock right?)", "expired"],
    ["the token has a lifetime of more than 12 hours, the most corp tokens may have", "expired"],
    ["the token's signature is not valid", "bad_signature"],
    ["the token is signed with a key the issuer does not publish", "bad_signature"],
    ["the token is signed with an algorithm Leasehold does not accept", "bad_signature"],
    ["the token's groups claim is not a list of group names", "bad_claims"],
    ["the token's email is not verified by the identity provider", "bad_claims"],
    ["the identity provider corp could not be reached to fetch its keys", "idp_unreachable"],
    ["the identity provider's keys could not be fetched", "idp_unreachable"],
    ["the identity provider corp published an unusable discovery document", "idp_unreachable"],
    ["the token is not valid", "other"],
  ])("%s → %s", (message, reason) => {
    expect(tokenRejectionReason(message)).toBe(reason);
  });
});
