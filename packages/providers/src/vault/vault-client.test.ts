import { UpstreamError } from "@leasehold/domain";
import { startVaultSandbox, type VaultSandbox } from "@leasehold/sandbox";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createVaultSession, vaultClientFor } from "./vault-client.js";

/**
 * Which AppRole secret id Leasehold's session logs in with: the stored (rotated) one when there is
 * one, the bootstrap one from the environment before that, and, when Vault refuses, the store read
 * once more (another replica may have rotated since).
 */
describe("Vault session: the AppRole secret id it logs in with", () => {
  const ROLE = "leasehold";
  const ROLE_ID = "session-role-id";
  let vault: VaultSandbox;
  let bootstrap: string;

  const root = () => vaultClientFor({ address: vault.url }, vault.rootToken);
  const mint = async (): Promise<string> =>
    (await root().write(`auth/approle/role/${ROLE}/secret-id`, {})).data.secret_id;
  const destroy = async (secretId: string) => {
    const found = await root().write(`auth/approle/role/${ROLE}/secret-id/lookup`, { secret_id: secretId });
    await root().write(`auth/approle/role/${ROLE}/secret-id-accessor/destroy`, {
      secret_id_accessor: found.data.secret_id_accessor,
    });
  };
  const sessionWith = (stored: () => Promise<string | undefined>) =>
    createVaultSession({ address: vault.url, auth: { roleId: ROLE_ID, secretId: bootstrap } }, stored);
  const roleOfToken = async (session: ReturnType<typeof sessionWith>) =>
    (await (await session.client()).tokenLookupSelf()).data.meta.role_name;

  beforeAll(async () => {
    vault = await startVaultSandbox({
      approle: [{ roleName: ROLE, roleId: ROLE_ID, secretId: "first", policies: [] }],
    });
  });
  afterAll(() => vault.close());
  beforeEach(async () => {
    bootstrap = await mint();
  });

  it("uses the bootstrap secret id while nothing is stored", async () => {
    expect(await roleOfToken(sessionWith(async () => undefined))).toBe(ROLE);
  });

  it("uses the stored secret id once there is one (the bootstrap may be destroyed by then)", async () => {
    const rotated = await mint();
    await destroy(bootstrap);
    expect(await roleOfToken(sessionWith(async () => rotated))).toBe(ROLE);
    // Without the store it would have failed: the bootstrap no longer logs in.
    await expect(sessionWith(async () => undefined).client()).rejects.toThrow(UpstreamError);
  });

  it("re-reads the store once when Vault refuses the secret id it read", async () => {
    const stale = await mint();
    const fresh = await mint();
    await destroy(stale);
    const answers = [stale, fresh];
    let reads = 0;
    const session = sessionWith(async () => answers[reads++]);
    expect(await roleOfToken(session)).toBe(ROLE);
    expect(reads).toBe(2);
  });

  it("fails, non-retryable, when the store has nothing newer than the refused secret id", async () => {
    const stale = await mint();
    await destroy(stale);
    let reads = 0;
    const failure = await sessionWith(async () => {
      reads += 1;
      return stale;
    })
      .client()
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UpstreamError);
    expect((failure as UpstreamError).retryable).toBe(false);
    expect((failure as UpstreamError).message).not.toContain(stale);
    expect(reads).toBe(2);
  });
});
