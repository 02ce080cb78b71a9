import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { vaultClient, vaultFailure } from "./test-vault-client.js";
import { startVaultSandbox } from "./vault-sandbox.js";
import type { VaultSandbox } from "./vault-sandbox-types.js";

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
