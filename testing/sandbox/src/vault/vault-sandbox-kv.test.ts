import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startVaultSandbox } from "./vault-sandbox.js";
import type { VaultSandbox } from "./vault-sandbox-types.js";
import { testClock, vaultClient, vaultFailure } from "./vault-test-client.js";

const CREATOR_TOKEN = "sandbox-kv-creator";

describe("Vault stand-in: KV version 2", () => {
  let sandbox: VaultSandbox;
  beforeAll(async () => {
    sandbox = await startVaultSandbox({
      policies: { creator: [{ path: "secret/data/app/*", capabilities: ["create", "read"] }] },
      tokens: [{ token: CREATOR_TOKEN, policies: ["creator"] }],
    });
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.reset());

  it("each write adds a version; previous versions stay readable with ?version=n", async () => {
    const vault = vaultClient(sandbox);
    const first = await vault.write("secret/data/app/config", { data: { color: "blue" } });
    expect(first.data).toMatchObject({ version: 1, deletion_time: "", destroyed: false });
    expect(first.data.created_time).toMatch(/^\d{4}-\d\d-\d\dT/);
    await vault.write("secret/data/app/config", { data: { color: "green" } });

    const latest = await vault.read("secret/data/app/config");
    expect(latest.data).toMatchObject({
      data: { color: "green" },
      metadata: { version: 2, destroyed: false },
    });
    const older = await vault.read("secret/data/app/config?version=1");
    expect(older.data).toMatchObject({ data: { color: "blue" }, metadata: { version: 1 } });
    const metadata = await vault.read("secret/metadata/app/config");
    expect(metadata.data).toMatchObject({ current_version: 2, oldest_version: 1 });
    expect(Object.keys(metadata.data.versions)).toEqual(["1", "2"]);
    expect(sandbox.kv("app/config").map((version) => version.data)).toEqual([
      { color: "blue" },
      { color: "green" },
    ]);
  });

  it("check-and-set: cas must equal the current version; cas 0 only creates", async () => {
    const vault = vaultClient(sandbox);
    await vault.write("secret/data/app/db", { data: { password: "one" }, options: { cas: 0 } });
    expect(
      await vaultFailure(vault.write("secret/data/app/db", { data: { password: "x" }, options: { cas: 0 } })),
    ).toMatchObject({ status: 400, errors: ["check-and-set parameter did not match the current version"] });
    expect(
      await vaultFailure(vault.write("secret/data/app/db", { data: { password: "x" }, options: { cas: 2 } })),
    ).toMatchObject({ status: 400, errors: ["check-and-set parameter did not match the current version"] });
    const second = await vault.write("secret/data/app/db", {
      data: { password: "two" },
      options: { cas: 1 },
    });
    expect(second.data.version).toBe(2);
    expect(sandbox.kv("app/db")).toHaveLength(2);
  });

  it("a missing secret or version is 404 with an empty errors list", async () => {
    const vault = vaultClient(sandbox);
    expect(await vaultFailure(vault.read("secret/data/app/missing"))).toEqual({
      status: 404,
      errors: [],
      message: "Status 404",
    });
    await vault.write("secret/data/app/one", { data: { a: 1 } });
    expect(await vaultFailure(vault.read("secret/data/app/one?version=5"))).toMatchObject({
      status: 404,
      errors: [],
    });
    expect(await vaultFailure(vault.read("secret/metadata/app/missing"))).toMatchObject({ status: 404 });
    expect(await vaultFailure(vault.write("secret/data/app/one", { other: 1 }))).toMatchObject({
      status: 400,
      errors: ["no data provided"],
    });
  });

  it("keeps the last 10 versions; a deleted version is a 404 carrying its metadata", async () => {
    const vault = vaultClient(sandbox);
    for (let round = 1; round <= 11; round += 1)
      await vault.write("secret/data/app/rolling", { data: { round } });
    expect(await vaultFailure(vault.read("secret/data/app/rolling?version=1"))).toMatchObject({
      status: 404,
    });
    expect((await vault.read("secret/data/app/rolling?version=2")).data.data).toEqual({ round: 2 });

    await vault.delete("secret/data/app/rolling");
    const deleted = await fetch(`${sandbox.url}/v1/secret/data/app/rolling`, {
      headers: { "X-Vault-Token": sandbox.rootToken },
    });
    expect(deleted.status).toBe(404);
    const body = (await deleted.json()) as { data: { data: unknown; metadata: Record<string, unknown> } };
    expect(body.data.data).toBeNull();
    expect(body.data.metadata).toMatchObject({ version: 11, destroyed: false });
    expect(body.data.metadata.deletion_time).not.toBe("");
    expect((await vault.read("secret/data/app/rolling?version=10")).data.data).toEqual({ round: 10 });
  });

  it("writing a new secret needs create, overwriting needs update (Vault's existence check)", async () => {
    const creator = vaultClient(sandbox, CREATOR_TOKEN);
    await creator.write("secret/data/app/new", { data: { a: 1 } });
    expect(await vaultFailure(creator.write("secret/data/app/new", { data: { a: 2 } }))).toMatchObject({
      status: 403,
    });
    expect((await creator.read("secret/data/app/new")).data.data).toEqual({ a: 1 });
  });

  it("LIST on metadata returns the next path elements", async () => {
    const vault = vaultClient(sandbox);
    await vault.write("secret/data/app/a", { data: { x: 1 } });
    await vault.write("secret/data/app/nested/b", { data: { x: 1 } });
    expect((await vault.list("secret/metadata/app/")).data.keys).toEqual(["a", "nested/"]);
  });

  it("a faulted write stores nothing", async () => {
    sandbox.injectFault({ method: "POST", pathPrefix: "secret/data/", status: 503, times: 1 });
    const vault = vaultClient(sandbox);
    expect(await vaultFailure(vault.write("secret/data/app/f", { data: { a: 1 } }))).toMatchObject({
      status: 503,
    });
    expect(sandbox.kv("app/f")).toEqual([]);
  });
});

describe("Vault stand-in: response wrapping", () => {
  const clock = testClock();
  let sandbox: VaultSandbox;
  beforeAll(async () => {
    sandbox = await startVaultSandbox({ clock: clock.now });
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.reset());

  it("X-Vault-Wrap-TTL answers with a wrapping token, which unwraps to the response exactly once", async () => {
    const vault = vaultClient(sandbox);
    await vault.write("secret/data/handoff", { data: { apiKey: "k-7f3a9c" } });
    const sightings = () => sandbox.allPayloadsText().split("k-7f3a9c").length - 1;
    const afterWrite = sightings();
    const wrapped = await vault.read("secret/data/handoff", { headers: { "X-Vault-Wrap-TTL": "5m" } });
    expect(wrapped.data).toBeNull();
    expect(wrapped.wrap_info).toMatchObject({ ttl: 300, creation_path: "secret/data/handoff" });
    // The wrapped response has travelled nowhere yet.
    expect(sightings()).toBe(afterWrite);

    const holder = vaultClient(sandbox, wrapped.wrap_info.token);
    const unwrapped = await holder.write("sys/wrapping/unwrap", {});
    expect(unwrapped.data).toMatchObject({ data: { apiKey: "k-7f3a9c" }, metadata: { version: 1 } });
    expect(sightings()).toBeGreaterThan(afterWrite);
    expect(await vaultFailure(holder.write("sys/wrapping/unwrap", {}))).toMatchObject({
      status: 400,
      errors: ["wrapping token is not valid or does not exist"],
    });
    expect(sandbox.requests.find((request) => request.wrapped)).toMatchObject({
      path: "secret/data/handoff",
    });
  });

  it("a third party can unwrap with the token in the body; an expired wrapping token is refused", async () => {
    const vault = vaultClient(sandbox);
    const wrapped = await vault.write(
      "auth/token/create",
      { policies: ["default"] },
      { headers: { "X-Vault-Wrap-TTL": "60" } },
    );
    expect(wrapped.wrap_info.wrapped_accessor).toMatch(/^[A-Za-z0-9]{24}$/);
    const other = (await vault.write("auth/token/create", { policies: ["default"] })).auth.client_token;
    const unwrapped = await vaultClient(sandbox, other).unwrap({ token: wrapped.wrap_info.token });
    expect(unwrapped.auth.accessor).toBe(wrapped.wrap_info.wrapped_accessor);

    const late = await vault.read("auth/token/lookup-self", { headers: { "X-Vault-Wrap-TTL": "30s" } });
    clock.advance(31);
    expect(await vaultFailure(vault.unwrap({ token: late.wrap_info.token }))).toMatchObject({
      status: 400,
      errors: ["wrapping token is not valid or does not exist"],
    });
  });
});
