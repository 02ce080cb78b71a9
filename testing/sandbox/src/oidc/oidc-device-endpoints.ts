import type { IncomingMessage, ServerResponse } from "node:http";
import { SUPPORTED_SCOPES } from "./oidc-authorize-endpoint.js";
import { authenticateClient, clientAllows } from "./oidc-client-auth.js";
import {
  renderDeviceApproval,
  renderDeviceCodeEntry,
  renderDeviceDone,
  renderErrorPage,
} from "./oidc-html.js";
import { type Params, parseParams, readForm, sendHtml, sendJson, sendOAuthError } from "./oidc-http.js";
import type { DeviceAuthorization, OidcClient, ProviderContext } from "./oidc-provider-types.js";
import { displayUserCode, newUserCode, normalizeUserCode, randomSecret, secretKey } from "./oidc-stores.js";
import { issueTokens } from "./oidc-token-issuance.js";

/** RFC 8628 §3.5: a slow_down adds 5 seconds to the interval for this device code. */
const SLOW_DOWN_STEP_SECONDS = 5;

/** POST /device/code (RFC 8628 §3.1–3.2). */
export async function handleDeviceCode(context: ProviderContext, req: IncomingMessage, res: ServerResponse) {
  const form = await readForm(req);
  if (!form.ok) return sendOAuthError(res, "invalid_request", form.reason);
  const auth = authenticateClient(context, req, form);
  if (!auth.ok) return sendOAuthError(res, "invalid_client", "client authentication failed", 401);
  if (!clientAllows(auth.client, "urn:ietf:params:oauth:grant-type:device_code"))
    return sendOAuthError(res, "unauthorized_client", "this client may not use the device grant");
  const scope = form.get("scope") ?? "openid";
  const scopes = scope.split(" ").filter((s) => s !== "");
  if (!scopes.includes("openid") || scopes.some((s) => !(SUPPORTED_SCOPES as readonly string[]).includes(s)))
    return sendOAuthError(
      res,
      "invalid_scope",
      `scope must include openid; supported: ${SUPPORTED_SCOPES.join(" ")}`,
    );
  let userCode = newUserCode();
  while (context.userCodes.get(userCode) !== undefined) userCode = newUserCode();
  const deviceCode = randomSecret();
  const { expiresInSeconds, intervalSeconds } = context.deviceCode;
  const entry: DeviceAuthorization = {
    clientId: auth.client.clientId,
    scope: scopes.join(" "),
    userCode,
    expiresAtMs: context.clock().getTime() + expiresInSeconds * 1000,
    intervalSeconds,
    lastPollAtMs: undefined,
    status: "pending",
    signIn: undefined,
  };
  context.devices.set(secretKey(deviceCode), entry);
  context.userCodes.set(userCode, secretKey(deviceCode));
  const verificationUri = `${context.issuer()}/device`;
  sendJson(res, 200, {
    device_code: deviceCode,
    user_code: displayUserCode(userCode),
    verification_uri: verificationUri,
    verification_uri_complete: `${verificationUri}?user_code=${displayUserCode(userCode)}`,
    expires_in: expiresInSeconds,
    interval: intervalSeconds,
  });
}

/** The live, still-pending device authorization a typed user code names. */
function findPending(context: ProviderContext, typed: string | undefined) {
  const userCode = normalizeUserCode(typed ?? "");
  const deviceKey = userCode.length === 8 ? context.userCodes.get(userCode) : undefined;
  const entry = deviceKey === undefined ? undefined : context.devices.get(deviceKey);
  if (entry === undefined || entry.status !== "pending" || entry.expiresAtMs <= context.clock().getTime())
    return undefined;
  const client = context.clients.get(entry.clientId);
  return client === undefined ? undefined : { entry, client, userCode };
}

const UNKNOWN_CODE = "That code is unknown, expired or already used. Check your device and try again.";
/**
 * Wrong user codes accepted per minute, across everyone: 20^8 codes and this cap make guessing a live
 * code hopeless within a device code's lifetime (RFC 8628 §5.1). Global, since a stand-in has no accounts.
 */
export const USER_CODE_FAILURES_PER_MINUTE = 20;
const TOO_MANY = "Too many wrong codes. Wait a minute, then try again.";

/** Whether user-code entry is throttled right now (forgetting failures older than a minute). */
function throttled(context: ProviderContext): boolean {
  const since = context.clock().getTime() - 60_000;
  const failures = context.userCodeFailures;
  while (failures.length > 0 && (failures[0] ?? 0) <= since) failures.shift();
  return failures.length >= USER_CODE_FAILURES_PER_MINUTE;
}

/** findPending behind the throttle: a miss counts as a failure; while throttled nothing is looked up. */
function lookUpTyped(context: ProviderContext, typed: string | undefined) {
  if (throttled(context)) return "throttled" as const;
  const found = findPending(context, typed);
  if (found === undefined) context.userCodeFailures.push(context.clock().getTime());
  return found;
}

function sendLookupFailure(res: ServerResponse, failure: "throttled" | undefined) {
  if (failure === "throttled") return sendHtml(res, 429, renderDeviceCodeEntry(TOO_MANY));
  sendHtml(res, 400, renderDeviceCodeEntry(UNKNOWN_CODE));
}

/** GET /device[?user_code=]: code entry, then the approval page naming the client. */
export function handleDeviceGet(context: ProviderContext, url: URL, res: ServerResponse) {
  const params = parseParams(url.searchParams);
  const typed = params.ok ? params.get("user_code") : undefined;
  if (typed === undefined) return sendHtml(res, params.ok ? 200 : 400, renderDeviceCodeEntry());
  const found = lookUpTyped(context, typed);
  if (found === undefined || found === "throttled") return sendLookupFailure(res, found);
  const userCode = displayUserCode(found.userCode);
  sendHtml(res, 200, renderDeviceApproval({ userCode, client: found.client, people: context.people }));
}

/** POST /device: user_code, decision=approve|deny, and person when approving. */
export async function handleDevicePost(context: ProviderContext, req: IncomingMessage, res: ServerResponse) {
  const form = await readForm(req);
  if (!form.ok) return sendHtml(res, 400, renderErrorPage("Request refused", form.reason));
  const found = lookUpTyped(context, form.get("user_code"));
  if (found === undefined || found === "throttled") return sendLookupFailure(res, found);
  const decision = form.get("decision");
  if (decision === "deny") {
    found.entry.status = "denied";
    return sendHtml(res, 200, renderDeviceDone(false));
  }
  if (decision !== "approve")
    return sendHtml(res, 400, renderErrorPage("Request refused", "Choose approve or deny."));
  const person = context.people.find((candidate) => candidate.sub === form.get("person"));
  if (person === undefined)
    return sendHtml(res, 400, renderErrorPage("Request refused", "Pick one of the people listed."));
  found.entry.status = "approved";
  found.entry.signIn = {
    clientId: found.entry.clientId,
    sub: person.sub,
    scope: found.entry.scope,
    authTime: Math.floor(context.clock().getTime() / 1000),
    acr: context.acr,
    familyId: randomSecret(),
  };
  sendHtml(res, 200, renderDeviceDone(true));
}

/** Whether this poll came sooner than the current interval; records the poll either way. */
function pollTooSoon(entry: DeviceAuthorization, nowMs: number): boolean {
  const last = entry.lastPollAtMs;
  entry.lastPollAtMs = nowMs;
  return last !== undefined && nowMs - last < entry.intervalSeconds * 1000;
}

/** The device_code grant at the token endpoint (RFC 8628 §3.4–3.5). */
export async function pollDeviceCode(
  context: ProviderContext,
  client: OidcClient,
  form: Params & { ok: true },
  res: ServerResponse,
) {
  const deviceCode = form.get("device_code");
  if (deviceCode === undefined) return sendOAuthError(res, "invalid_request", "device_code is required");
  const entry = context.devices.get(secretKey(deviceCode));
  if (entry === undefined || entry.clientId !== client.clientId || entry.status === "redeemed")
    return sendOAuthError(res, "invalid_grant", "the device code is unknown or already redeemed");
  const now = context.clock().getTime();
  if (entry.expiresAtMs <= now) return sendOAuthError(res, "expired_token", "the device code expired");
  if (entry.status === "denied") return sendOAuthError(res, "access_denied", "the person denied the request");
  if (entry.status === "pending") {
    if (pollTooSoon(entry, now)) {
      entry.intervalSeconds += SLOW_DOWN_STEP_SECONDS;
      return sendOAuthError(res, "slow_down", `poll at most every ${entry.intervalSeconds} seconds`);
    }
    return sendOAuthError(res, "authorization_pending", "the person has not approved yet");
  }
  const signIn = entry.signIn;
  const person = context.people.find((candidate) => candidate.sub === signIn?.sub);
  if (signIn === undefined || person === undefined)
    return sendOAuthError(res, "invalid_grant", "the person no longer exists");
  entry.status = "redeemed";
  context.userCodes.delete(entry.userCode);
  sendJson(res, 200, await issueTokens(context, signIn, person));
}
