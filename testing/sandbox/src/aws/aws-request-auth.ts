import { createHash, timingSafeEqual } from "node:crypto";
import { AwsQueryError } from "./aws-query-error.js";
import {
  deterministicId,
  type Principal,
  SANDBOX_ACCESS_KEY,
  SANDBOX_USER_ARN,
  type SandboxState,
} from "./aws-sandbox-state.js";
import { findAccessKey } from "./iam-access-keys.js";
import {
  checkRequestTime,
  headerValues,
  type ReceivedRequest,
  type SigningStyle,
  type SigV4Authorization,
  verifySignature,
} from "./sigv4-verify.js";

const INVALID_TOKEN = "The security token included in the request is invalid.";

/** Compares secrets in constant time regardless of their lengths. */
const sameSecret = (a: string, b: string): boolean =>
  timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());

/**
 * Who signed a request (to any service the stand-in serves), after checking, in this order: the key
 * is known (an IAM user's key must be Active and past its activation delay), the session token is the
 * one issued with it, the session has not expired, X-Amz-Date is within five minutes of the server
 * clock, and the signature (over the body too) is right.
 */
export function authenticate(
  state: SandboxState,
  request: ReceivedRequest,
  authorization: SigV4Authorization,
  now: Date,
  style: SigningStyle = "default",
): Principal {
  const token = headerValues(request.rawHeaders, "x-amz-security-token")[0];
  let principal: Principal;
  let secretAccessKey: string;
  const userKey = findAccessKey(state.users, authorization.accessKeyId);
  if (authorization.accessKeyId === SANDBOX_ACCESS_KEY.accessKeyId) {
    if (token !== undefined) throw new AwsQueryError(403, "InvalidClientTokenId", INVALID_TOKEN);
    principal = {
      kind: "user",
      accessKeyId: SANDBOX_ACCESS_KEY.accessKeyId,
      arn: SANDBOX_USER_ARN,
      account: SANDBOX_USER_ARN.split(":")[4] ?? "",
      userId: deterministicId("AIDA", SANDBOX_USER_ARN),
    };
    secretAccessKey = SANDBOX_ACCESS_KEY.secretAccessKey;
  } else if (userKey !== undefined) {
    const { user, key } = userKey;
    const activeFrom = key.createdAt.getTime() + state.accessKeyActivationSeconds * 1000;
    // An Inactive, deleted or not yet propagated key is refused as an unknown one is (wave2.md §3:
    // commonly observed as InvalidClientTokenId; AWS does not document the code for each case).
    if (token !== undefined || key.status !== "Active" || now.getTime() < activeFrom) {
      throw new AwsQueryError(403, "InvalidClientTokenId", INVALID_TOKEN);
    }
    principal = {
      kind: "user",
      accessKeyId: key.accessKeyId,
      arn: user.arn,
      account: user.account,
      userId: user.userId,
    };
    secretAccessKey = key.secretAccessKey;
  } else {
    const session = state.sessions.get(authorization.accessKeyId);
    if (session === undefined || token === undefined || !sameSecret(token, session.sessionToken)) {
      throw new AwsQueryError(403, "InvalidClientTokenId", INVALID_TOKEN);
    }
    // Real STS and IAM answer an expired session with 403 ExpiredToken (not the modelled
    // ExpiredTokenException, which is for expired web identity tokens); see README.md.
    if (now.getTime() >= session.expiration.getTime()) {
      throw new AwsQueryError(403, "ExpiredToken", "The security token included in the request is expired");
    }
    principal = { kind: "session", accessKeyId: session.accessKeyId, session };
    secretAccessKey = session.secretAccessKey;
  }
  const amzDate = checkRequestTime(request.rawHeaders, authorization, now);
  verifySignature(request, authorization, amzDate, secretAccessKey, style);
  return principal;
}
