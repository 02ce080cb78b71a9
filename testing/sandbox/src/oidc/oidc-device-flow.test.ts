import {
  allowInsecureRequests,
  type Configuration,
  discovery,
  initiateDeviceAuthorization,
  pollDeviceAuthorizationGrant,
  refreshTokenGrant,
} from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OidcIssuer, startOidcIssuer } from "./oidc-issuer.js";

const FORM = { "content-type": "application/x-www-form-urlencoded" };
const ALICE = { sub: "alice", email: "alice@example.com", name: "Alice", groups: ["admins"] };

describe("OIDC stand-in: device authorization grant (RFC 8628)", () => {
  let issuer: OidcIssuer;
  let config: Configuration;
  let offsetMs = 0;
  beforeAll(async () => {
    issuer = await startOidcIssuer({
      people: [ALICE],
      clients: [{ clientId: "leasehold-cli", redirectUris: [] }],
      deviceCode: { expiresInSeconds: 30, intervalSeconds: 1 },
      clock: () => new Date(Date.now() + offsetMs),
    });
    config = await discovery(new URL(issuer.url), "leasehold-cli", undefined, undefined, {
      execute: [allowInsecureRequests],
    });
  });
  afterAll(() => issuer.close());

  const device = (fields: Record<string, string>) =>
    fetch(`${issuer.url}/device`, { method: "POST", headers: FORM, body: new URLSearchParams(fields) });
  const poll = async (deviceCode: string) => {
    const answer = await fetch(`${issuer.url}/token`, {
      method: "POST",
      headers: FORM,
      body: new URLSearchParams({
        grant_type: "urn:ietf:params:oauth:grant-type:device_code",
        client_id: "leasehold-cli",
        device_code: deviceCode,
      }),
    });
    return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
  };

  it("pending, then approved on the page, then tokens; the refresh token rotates", async () => {
    const started = await initiateDeviceAuthorization(config, { scope: "openid email groups" });
    expect(started.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(started.verification_uri).toBe(`${issuer.url}/device`);
    expect(started.verification_uri_complete).toBe(`${issuer.url}/device?user_code=${started.user_code}`);
    expect(started).toMatchObject({ expires_in: 30, interval: 1 });
    expect((await poll(started.device_code)).body).toMatchObject({ error: "authorization_pending" });

    const entry = await (await fetch(`${issuer.url}/device`)).text();
    expect(entry).toMatch(/<label for="user_code">[^<]+<\/label>/);
    expect(entry).toContain('<input name="user_code" id="user_code"');
    // Typed in lower case with a space instead of the dash: still the same code.
    const typed = started.user_code.toLowerCase().replace("-", " ");
    const approval = await (
      await fetch(`${issuer.url}/device?user_code=${encodeURIComponent(typed)}`)
    ).text();
    expect(approval).toContain("leasehold-cli");
    expect(approval).toContain('<button type="submit" name="person" value="alice">Approve as Alice</button>');
    expect(approval).toContain('<button type="submit" name="decision" value="deny">Deny</button>');

    const polling = pollDeviceAuthorizationGrant(config, started);
    expect((await device({ user_code: typed, person: "alice", decision: "approve" })).status).toBe(200);
    const tokens = await polling;
    expect(tokens.claims()).toMatchObject({
      sub: "alice",
      aud: "leasehold-cli",
      groups: ["admins"],
      acr: "urn:leasehold:local:password",
    });
    expect(typeof tokens.claims()?.auth_time).toBe("number");
    expect((await poll(started.device_code)).body).toMatchObject({ error: "invalid_grant" });

    const refreshed = await refreshTokenGrant(config, tokens.refresh_token ?? "");
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.claims()?.auth_time).toBe(tokens.claims()?.auth_time);
  });

  it("a denied request ends in access_denied", async () => {
    const started = await initiateDeviceAuthorization(config, { scope: "openid" });
    expect((await device({ user_code: started.user_code, decision: "deny" })).status).toBe(200);
    await expect(pollDeviceAuthorizationGrant(config, started)).rejects.toMatchObject({
      error: "access_denied",
    });
    // The code cannot be approved after the denial.
    expect(
      (await device({ user_code: started.user_code, person: "alice", decision: "approve" })).status,
    ).toBe(400);
  });

  it("polling faster than the interval is slow_down, and the interval grows by 5 seconds", async () => {
    const started = await initiateDeviceAuthorization(config, { scope: "openid" });
    expect((await poll(started.device_code)).body).toMatchObject({ error: "authorization_pending" });
    expect((await poll(started.device_code)).body).toMatchObject({ error: "slow_down" });
    offsetMs = 2_000; // past the original 1 s interval, inside the new 6 s one
    try {
      const third = await poll(started.device_code);
      expect(third).toMatchObject({ status: 400, body: { error: "slow_down" } });
      expect(third.body.error_description).toContain("11 seconds");
    } finally {
      offsetMs = 0;
    }
  });

  it("a device code polled after it expired is expired_token, and its user code is no longer accepted", async () => {
    const started = await initiateDeviceAuthorization(config, { scope: "openid" });
    offsetMs = 31_000;
    try {
      await expect(
        pollDeviceAuthorizationGrant(config, started, undefined, { signal: AbortSignal.timeout(10_000) }),
      ).rejects.toMatchObject({ error: "expired_token" });
      expect((await fetch(`${issuer.url}/device?user_code=${started.user_code}`)).status).toBe(400);
    } finally {
      offsetMs = 0;
    }
  });
});

describe("OIDC stand-in: user-code guessing", () => {
  it("after 20 wrong user codes in a minute even the right one is refused until the minute passes", async () => {
    let offsetMs = 0;
    const issuer = await startOidcIssuer({
      people: [ALICE],
      clients: [{ clientId: "leasehold-cli", redirectUris: [] }],
      clock: () => new Date(Date.now() + offsetMs),
    });
    try {
      const config = await discovery(new URL(issuer.url), "leasehold-cli", undefined, undefined, {
        execute: [allowInsecureRequests],
      });
      const started = await initiateDeviceAuthorization(config, { scope: "openid" });
      for (const letter of "BCDFGHJKLMNPQRSTVWXZ")
        expect((await fetch(`${issuer.url}/device?user_code=BBBB-BBB${letter}`)).status).toBe(400);
      const blocked = await fetch(`${issuer.url}/device`, {
        method: "POST",
        headers: FORM,
        body: new URLSearchParams({ user_code: started.user_code, person: "alice", decision: "approve" }),
      });
      expect(blocked.status).toBe(429);
      offsetMs = 61_000;
      expect((await fetch(`${issuer.url}/device?user_code=${started.user_code}`)).status).toBe(200);
    } finally {
      await issuer.close();
    }
  });
});
