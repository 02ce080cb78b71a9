import nodeVault from "node-vault";
import type { VaultSandbox } from "./vault-sandbox-types.js";

/** The real node-vault client pointed at the stand-in, for the Vault tests. */
export const vaultClient = (sandbox: VaultSandbox, token: string = sandbox.rootToken) =>
  nodeVault({ endpoint: sandbox.url, token });

export type VaultFailure = { status: number; errors: unknown; message: string };

/** The HTTP status and `errors` of a node-vault call that must fail (node-vault puts them on `response`). */
export async function vaultFailure(call: Promise<unknown>): Promise<VaultFailure> {
  let failure: unknown;
  try {
    await call;
  } catch (error) {
    failure = error;
  }
  if (failure === undefined) throw new Error("expected the Vault call to fail");
  if (
    failure instanceof Error &&
    "response" in failure &&
    typeof failure.response === "object" &&
    failure.response !== null &&
    "statusCode" in failure.response &&
    typeof failure.response.statusCode === "number"
  ) {
    const body = "body" in failure.response ? failure.response.body : undefined;
    const errors = typeof body === "object" && body !== null && "errors" in body ? body.errors : undefined;
    return { status: failure.response.statusCode, errors, message: failure.message };
  }
  throw failure;
}

/** A controllable clock for the stand-in. */
export function testClock(start = "2026-11-23T12:00:00Z") {
  let now = new Date(start).getTime();
  return {
    now: () => new Date(now),
    advance(seconds: number) {
      now += seconds * 1000;
    },
  };
}
