import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { testClock, vaultClient, vaultFailure } from "./test-vault-client.js";
import { startVaultSandbox } from "./vault-sandbox.js";
import type { VaultSandbox } from "./vault-sandbox-types.js";

const APP_TOKEN = "sandbox-app-token";
const POLICY_DENIED = "1 error occurred:\n\t* permission denied\n\n";
const INVALID_TOKEN = "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n";

describe("Vault stand-in: health, seal and standby", () => {
  let sandbox: VaultSandbox;
  beforeAll(async () => {
    sandbox = await startVaultSandbox({});
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.reset());

  const healthStatus = async (query = "") => (await fetch(`${sandbox.url}/v1/sys/health${query}`)).status;

  it("sys/health is 200 active, 429 standby, 503 sealed and 501 uninitialised", async () => {
    expect(await healthStatus()).toBe(200);
    sandbox.setMode("standby");
    expect(await healthStatus()).toBe(429);
    expect(await healthStatus("?standbyok=true")).toBe(200);
    sandbox.setMode("sealed");
    expect(await healthStatus()).toBe(503);
    expect(await healthStatus("?sealedcode=200")).toBe(200);
    sandbox.setMode("uninitialized");
    expect(await healthStatus()).toBe(501);
  });

  it("node-vault's health() resolves with the body whatever the status (it never throws for sys/health)", async () => {
    const vault = vaultClient(sandbox);
    expect(await vault.health()).toMatchObject({ initialized: true, sealed: false, standby: false });
    sandbox.setMode("sealed");
    expect(await vault.health()).toMatchObject({ initialized: true, sealed: true, standby: true });
    sandbox.setMode("standby");
    expect(await vault.health()).toMatchObject({ sealed: false, standby: true });
  });

  it("while sealed every other endpoint answers 503 Vault is sealed, on node-vault's error.response", async () => {
    sandbox.setMode("sealed");
    const failure = await vaultFailure(vaultClient(sandbox).tokenLookupSelf());
    expect(failure).toMatchObject({ status: 503, errors: ["Vault is sealed"], message: "Vault is sealed" });
  });

  it("a standby serves requests (it forwards them to the active node), only its health is 429", async () => {
    sandbox.setMode("standby");
    expect((await vaultClient(sandbox).tokenLookupSelf()).data.policies).toEqual(["root"]);
  });
});

describe("Vault stand-in: tokens and policies", () => {
  const clock = testClock();
  let sandbox: VaultSandbox;
  beforeAll(async () => {
    sandbox = await startVaultSandbox({
      clock: clock.now,
      policies: {
        app: [{ path: "secret/data/app/*", capabilities: ["read"] }],
        issuer: [{ path: "auth/token/create", capabilities: ["update"] }],
        extra: [{ path: "secret/data/extra", capabilities: ["read"] }],
      },
      tokens: [
        { token: APP_TOKEN, policies: ["app", "issuer"], ttlSeconds: 3600, displayName: "deploy-bot" },
      ],
      approle: [{ roleId: "role-id-1", secretId: "secret-id-1", policies: ["app"], tokenTtlSeconds: 1200 }],
    });
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.reset());

  it("an unknown token is 403 with 'permission denied' and 'invalid token'; no token at all is 400", async () => {
    expect(await vaultFailure(vaultClient(sandbox, "sandbox-unknown").tokenLookupSelf())).toMatchObject({
      status: 403,
      errors: [INVALID_TOKEN],
    });
    const anonymous = await fetch(`${sandbox.url}/v1/auth/token/lookup-self`);
    expect(anonymous.status).toBe(400);
    expect(await anonymous.json()).toEqual({ errors: ["missing client token"] });
  });

  it("a token whose policies do not cover the path is 403 permission denied", async () => {
    const vault = vaultClient(sandbox, APP_TOKEN);
    const failure = await vaultFailure(vault.read("secret/data/other/x"));
    expect(failure).toMatchObject({ status: 403, errors: [POLICY_DENIED] });
    // The default policy does not include lease revocation.
    expect(await vaultFailure(vault.write("sys/leases/revoke", { lease_id: "x" }))).toMatchObject({
      status: 403,
    });
  });

  it("lookup-self describes the token: policies with default, TTL, display name, accessor", async () => {
    const { data } = await vaultClient(sandbox, APP_TOKEN).tokenLookupSelf();
    expect(data).toMatchObject({
      policies: ["app", "default", "issuer"],
      ttl: 3600,
      creation_ttl: 3600,
      renewable: true,
      display_name: "deploy-bot",
      orphan: true,
      type: "service",
      id: APP_TOKEN,
    });
    expect(data.accessor).toMatch(/^[A-Za-z0-9]{24}$/);
    // The record keeps the accessor, never the token.
    expect(sandbox.requests.at(-1)).toMatchObject({
      path: "auth/token/lookup-self",
      accessor: data.accessor,
    });
    expect(JSON.stringify(sandbox.requests)).not.toContain(APP_TOKEN);
  });

  it("LIST auth/token/accessors lists live tokens' accessors, needs sudo, and lookup-accessor shows meta", async () => {
    const child = await vaultClient(sandbox).write("auth/token/create", {
      ttl: "10m",
      display_name: "leasehold-abc",
      meta: { grant: "g-1", attempt: "1" },
    });
    const listed = await vaultClient(sandbox).list("auth/token/accessors");
    expect(listed.data.keys).toContain(child.auth.accessor);
    expect(JSON.stringify(listed)).not.toContain(child.auth.client_token);
    const lookup = await vaultClient(sandbox).write("auth/token/lookup-accessor", {
      accessor: child.auth.accessor,
    });
    expect(lookup.data).toMatchObject({ display_name: "token-leasehold-abc", meta: { grant: "g-1" } });
    expect(lookup.data.id).toBeUndefined();
    // Root-protected: the app token's policies do not hold sudo on the path.
    expect(await vaultFailure(vaultClient(sandbox, APP_TOKEN).list("auth/token/accessors"))).toMatchObject({
      status: 403,
    });
    // An expired token is no longer listed.
    clock.advance(601);
    expect((await vaultClient(sandbox).list("auth/token/accessors")).data.keys).not.toContain(
      child.auth.accessor,
    );
  });

  it("a child token's policies must be a subset of its parent's; orphans need sudo; root may do both", async () => {
    const app = vaultClient(sandbox, APP_TOKEN);
    expect(await vaultFailure(app.write("auth/token/create", { policies: ["extra"] }))).toMatchObject({
      status: 400,
      errors: ["child policies must be subset of parent"],
    });
    expect(
      await vaultFailure(app.write("auth/token/create", { policies: ["app"], no_parent: true })),
    ).toMatchObject({ status: 400, errors: ["root or sudo privileges required to create orphan token"] });
    const child = await app.write("auth/token/create", {
      policies: ["app"],
      ttl: "10m",
      display_name: "ci job",
    });
    expect(child.auth).toMatchObject({ policies: ["app", "default"], lease_duration: 600, renewable: true });
    const lookup = await vaultClient(sandbox, child.auth.client_token).tokenLookupSelf();
    expect(lookup.data).toMatchObject({
      display_name: "token-ci-job",
      orphan: false,
      path: "auth/token/create",
    });

    const orphan = await vaultClient(sandbox).write("auth/token/create", {
      policies: ["extra"],
      no_parent: true,
    });
    expect(orphan.auth).toMatchObject({
      policies: ["default", "extra"],
      orphan: true,
      lease_duration: 768 * 3600,
    });
    const unknown = await vaultClient(sandbox).write("auth/token/create", { policies: ["nope"] });
    expect(unknown.warnings).toEqual(['Policy "nope" does not exist']);
  });

  it("revoking a token by accessor revokes its children too, but not its orphans", async () => {
    const root = vaultClient(sandbox);
    const parent = (await root.write("auth/token/create", { policies: ["app", "issuer"] })).auth;
    const parentClient = vaultClient(sandbox, parent.client_token);
    const child = (await parentClient.write("auth/token/create", { policies: ["app"] })).auth;
    const orphan = (await root.write("auth/token/create", { policies: ["app"], no_parent: true })).auth;
    expect(await root.write("auth/token/revoke-accessor", { accessor: parent.accessor })).toBe("");
    for (const gone of [parent, child]) {
      expect(await vaultFailure(vaultClient(sandbox, gone.client_token).tokenLookupSelf())).toMatchObject({
        status: 403,
      });
    }
    expect((await vaultClient(sandbox, orphan.client_token).tokenLookupSelf()).data.orphan).toBe(true);
    expect(
      await vaultFailure(root.write("auth/token/revoke-accessor", { accessor: parent.accessor })),
    ).toMatchObject({ status: 400, errors: ["invalid accessor"] });
  });

  it("revoke-self ends the calling token", async () => {
    const token = (await vaultClient(sandbox).write("auth/token/create", { policies: ["app"] })).auth
      .client_token;
    const vault = vaultClient(sandbox, token);
    await vault.tokenRevokeSelf();
    expect(await vaultFailure(vault.tokenLookupSelf())).toMatchObject({
      status: 403,
      errors: [INVALID_TOKEN],
    });
  });

  it("a token past its TTL is refused like an unknown one; renew-self extends it first", async () => {
    const token = (await vaultClient(sandbox).write("auth/token/create", { policies: ["app"], ttl: 60 }))
      .auth;
    const vault = vaultClient(sandbox, token.client_token);
    clock.advance(50);
    const renewed = await vault.write("auth/token/renew-self", { increment: 60 });
    expect(renewed.auth.lease_duration).toBe(60);
    clock.advance(59);
    expect((await vault.tokenLookupSelf()).data.ttl).toBe(1);
    clock.advance(1);
    expect(await vaultFailure(vault.tokenLookupSelf())).toMatchObject({
      status: 403,
      errors: [INVALID_TOKEN],
    });
  });

  it("AppRole login gives a token with the role's policies; wrong ids are 400 invalid role or secret ID", async () => {
    const vault = vaultClient(sandbox, "");
    const login = await vault.approleLogin({ role_id: "role-id-1", secret_id: "secret-id-1" });
    expect(login.auth).toMatchObject({ policies: ["app", "default"], lease_duration: 1200, renewable: true });
    expect((await vaultClient(sandbox, login.auth.client_token).tokenLookupSelf()).data.display_name).toBe(
      "approle",
    );
    expect(
      await vaultFailure(vaultClient(sandbox, "").approleLogin({ role_id: "role-id-1", secret_id: "wrong" })),
    ).toMatchObject({ status: 400, errors: ["invalid role or secret ID"] });
  });

  it("records the namespace header", async () => {
    await fetch(`${sandbox.url}/v1/auth/token/lookup-self`, {
      headers: { "X-Vault-Token": APP_TOKEN, "X-Vault-Namespace": "team-a" },
    });
    expect(sandbox.requests.at(-1)).toMatchObject({ namespace: "team-a", status: 200 });
  });
});

describe("Vault stand-in: faults", () => {
  let sandbox: VaultSandbox;
  beforeAll(async () => {
    sandbox = await startVaultSandbox({});
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.reset());

  it("an injected fault answers the next matching requests, then normal service resumes", async () => {
    sandbox.injectFault({ pathPrefix: "auth/token/", status: 500, errors: ["internal error"], times: 2 });
    const vault = vaultClient(sandbox);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      expect(await vaultFailure(vault.tokenLookupSelf())).toMatchObject({
        status: 500,
        errors: ["internal error"],
      });
    }
    expect((await vault.tokenLookupSelf()).data.policies).toEqual(["root"]);
  });

  it("a 429 fault can carry Retry-After; a method filter leaves other methods alone", async () => {
    sandbox.injectFault({ method: "POST", pathPrefix: "sys/", status: 429, retryAfterSeconds: 3, times: 1 });
    expect((await fetch(`${sandbox.url}/v1/sys/health`)).status).toBe(200);
    const limited = await fetch(`${sandbox.url}/v1/sys/leases/lookup`, {
      method: "POST",
      headers: { "X-Vault-Token": sandbox.rootToken },
      body: "{}",
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("3");
    expect(await limited.json()).toEqual({ errors: [] });
  });

  it("an unknown mount is 404 with Vault's route message", async () => {
    expect(await vaultFailure(vaultClient(sandbox).read("nomount/thing"))).toMatchObject({
      status: 404,
      errors: ['no handler for route "nomount/thing". route entry not found.'],
    });
  });
});
