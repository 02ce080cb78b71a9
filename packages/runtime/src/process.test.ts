import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/** Runs `body` as an app's main module would, in a process of its own; returns how it ended. */
function runAsMain(body: string) {
  const program = `
    import { ConfigError } from "@leasehold/config";
    import { runMain } from "@leasehold/runtime";
    runMain(async () => { ${body} });
  `;
  const result = spawnSync(
    process.execPath,
    ["--conditions=@leasehold/source", "--import", "tsx", "--input-type=module", "-e", program],
    { cwd: fileURLToPath(new URL("..", import.meta.url)), encoding: "utf8", timeout: 30_000 },
  );
  return { code: result.status, stderr: result.stderr };
}

describe("an app's main function", () => {
  it("stops on a configuration problem with exit code 78 and the message, without a stack trace", () => {
    const { code, stderr } = runAsMain(
      `throw new ConfigError("the environment", ["VAULT_ADDR: set Vault's address"]);`,
    );
    expect(code).toBe(78);
    expect(stderr).toContain("the environment is not valid:\n  - VAULT_ADDR: set Vault's address");
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("ends with 1 and the stack on anything else", () => {
    const { code, stderr } = runAsMain(`throw new Error("boom");`);
    expect(code).toBe(1);
    expect(stderr).toMatch(/fatal: Error: boom\n\s+at /);
  });
});
