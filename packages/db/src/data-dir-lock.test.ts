import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lockDataDir } from "./data-dir-lock.js";

describe("the embedded database's lock", () => {
  it("refuses a second opener while the first holds it, and frees it on release", () => {
    const dir = mkdtempSync(join(tmpdir(), "lh-lock-"));
    const release = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(/in use by process \d+.*DATABASE_URL/);
    release();
    lockDataDir(dir)();
  });

  it("takes over a lock left by a process that has exited", () => {
    const dir = mkdtempSync(join(tmpdir(), "lh-lock-"));
    const gone = spawnSync(process.execPath, [
      "-e",
      "process.stdout.write(String(process.pid))",
    ]).stdout.toString();
    writeFileSync(join(dir, "leasehold.lock"), gone);
    lockDataDir(dir)();
  });
});
