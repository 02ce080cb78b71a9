import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testClock, vaultClient, vaultFailure } from "./test-vault-client.js";
import { startVaultSandbox } from "./vault-sandbox.js";
import type { VaultSandbox } from "./vault-sandbox-types.js";

const POLICY_DENIED = "1 error occurred:\n\t* permission denied\n\n";

/** The policy a service needs to rotate its own secret id, and nothing of any other role. */
const selfRotation = (role: string) => [
  { path: `auth/approle/role/${role}/secret-id`, capabilities: ["update" as const] },
  { path: `auth/approle/role/${role}/secret-id/lookup`, capabilities: ["update" as const] },
  { path: `auth/approle/role/${role}/secret-id-accessor/destroy`, capabilities: ["update" as const] },
];

describe("Vault stand-in: AppRole secret ids", () => {
  const clock = testClock();
  let sandbox: VaultSandbox;
  beforeAll(async () => {
    sandbox = await startVaultSandbox({
      clock: clock.now,
      policies: { "rotate-self": selfRotation("leasehold") },
      approle: [
        { roleName: "leasehold", roleId: "lh-role", secretId: "lh-boot", policies: ["rotate-self"] },
        { roleName: "other", roleId: "other-role", secretId: "other-boot", policies: [] },
        {
          roleName: "short",
          roleId: "short-role",
          secretId: "short-boot",
          policies: [],
          secretIdTtlSeconds: 600,
          secretIdNumUses: 2,
        },
      ],
    });
  });
  afterAll(() => sandbox.close());

  const login = async (roleId: string, secretId: string) => {
    const vault = vaultClient(sandbox, "");
    await vault.approleLogin({ role_id: roleId, secret_id: secretId });
    return vault;
  };

  it("a token of the role mints a secret id that logs in, and its accessor destroys it", async () => {
    const vault = await login("lh-role", "lh-boot");
    expect((await vault.tokenLookupSelf()).data.meta).toEqual({ role_name: "leasehold" });
    const minted = await vault.write("auth/approle/role/leasehold/secret-id", {});
    expect(minted.data).toMatchObject({ secret_id_ttl: 0, secret_id_num_uses: 0 });
    const { secret_id: secretId, secret_id_accessor: accessor } = minted.data;
    expect(sandbox.appRoleSecretIdAccessors("leasehold")).toContain(accessor);

    await login("lh-role", secretId);
    const looked = await vault.write("auth/approle/role/leasehold/secret-id/lookup", { secret_id: secretId });
    expect(looked.data.secret_id_accessor).toBe(accessor);

    await vault.write("auth/approle/role/leasehold/secret-id-accessor/destroy", {
      secret_id_accessor: accessor,
    });
    expect(await vaultFailure(login("lh-role", secretId))).toMatchObject({
      status: 400,
      errors: ["invalid role or secret ID"],
    });
    // Destroying it again: Vault has no typed error for an unknown accessor, so it is a 500.
    expect(
      await vaultFailure(
        vault.write("auth/approle/role/leasehold/secret-id-accessor/destroy", {
          secret_id_accessor: accessor,
        }),
      ),
    ).toMatchObject({
      status: 500,
      errors: [
        `1 error occurred:\n\t* failed to find accessor entry for secret_id_accessor: "${accessor}"\n\n`,
      ],
    });
    // The bootstrap secret id is untouched by all this.
    await login("lh-role", "lh-boot");
  });

  it("a token may mint and destroy secret ids only for its own role", async () => {
    const vault = await login("lh-role", "lh-boot");
    expect(await vaultFailure(vault.write("auth/approle/role/other/secret-id", {}))).toMatchObject({
      status: 403,
      errors: [POLICY_DENIED],
    });
    const otherAccessor = sandbox.appRoleSecretIdAccessors("other")[0];
    expect(
      await vaultFailure(
        vault.write("auth/approle/role/other/secret-id-accessor/destroy", {
          secret_id_accessor: otherAccessor,
        }),
      ),
    ).toMatchObject({ status: 403 });
    await login("other-role", "other-boot");
  });

  it("a secret id wrong for the role, or for another role, is refused without saying which", async () => {
    for (const [roleId, secretId] of [
      ["lh-role", "other-boot"],
      ["lh-role", "nope"],
      ["no-such-role", "lh-boot"],
    ] as const) {
      expect(await vaultFailure(login(roleId, secretId))).toMatchObject({
        status: 400,
        errors: ["invalid role or secret ID"],
      });
    }
  });

  it("an unknown role is 404 and a missing accessor 400", async () => {
    const root = vaultClient(sandbox);
    expect(await vaultFailure(root.write("auth/approle/role/ghost/secret-id", {}))).toMatchObject({
      status: 404,
      errors: ['role "ghost" does not exist'],
    });
    expect(
      await vaultFailure(root.write("auth/approle/role/leasehold/secret-id-accessor/destroy", {})),
    ).toMatchObject({ status: 400, errors: ["missing secret_id_accessor"] });
    expect((await root.read("auth/approle/role/leasehold/role-id")).data).toEqual({ role_id: "lh-role" });
  });

  it("secret_id_ttl and secret_id_num_uses from the role limit each secret id", async () => {
    const root = vaultClient(sandbox);
    const minted = await root.write("auth/approle/role/short/secret-id", {});
    expect(minted.data).toMatchObject({ secret_id_ttl: 600, secret_id_num_uses: 2 });
    // A request may narrow the role's limits, never widen them.
    expect(await vaultFailure(root.write("auth/approle/role/short/secret-id", { ttl: "1h" }))).toMatchObject({
      status: 400,
      errors: ["ttl cannot be longer than the role's secret_id_ttl"],
    });
    await login("short-role", minted.data.secret_id);
    await login("short-role", minted.data.secret_id);
    expect(await vaultFailure(login("short-role", minted.data.secret_id))).toMatchObject({ status: 400 });

    const timed = await root.write("auth/approle/role/short/secret-id", { num_uses: 1 });
    clock.advance(601);
    expect(await vaultFailure(login("short-role", timed.data.secret_id))).toMatchObject({
      status: 400,
      errors: ["invalid role or secret ID"],
    });
  });
});
