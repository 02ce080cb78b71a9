import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { startLocalMode } from "@leasehold/test-kit";
import { describe, expect, it } from "vitest";

/** The README's run command, as a newcomer uses it: start, follow the printed walkthrough, stop. */
describe("local mode", () => {
  it("starts with no settings, serves the walkthrough it prints, and stops cleanly on SIGTERM", async () => {
    const local = await startLocalMode();
    const { address, dataDir } = local;
    const output = local.output;
    try {
      expect(output()).toMatch(/LOCAL MODE\. Not for production/);
      expect(statSync(join(dataDir, "master.key")).mode & 0o777).toBe(0o600);
      const token = (who: string) => readFileSync(join(dataDir, "tokens", `${who}.jwt`), "utf8");
      const post = async (who: string, procedure: string, body: unknown) => {
        const response = await fetch(`${address}/trpc/${procedure}`, {
          method: "POST",
          headers: { authorization: `Bearer ${token(who)}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        return (await response.json()) as { result?: { data: Record<string, unknown> }; error?: unknown };
      };

      const created = await post("dev", "requests.create", {
        targetId: "sandbox-readonly",
        durationSeconds: 900,
        reason: "trying Leasehold",
      });
      const requestId = String(created.result?.data.id);
      await post("alice", "reviews.submit", { requestId, decision: "approve" });
      const approved = await post("bob", "reviews.submit", { requestId, decision: "approve" });
      const grantId = String(approved.result?.data.grantId);
      let credential: Record<string, unknown> | undefined;
      for (let i = 0; i < 100 && !credential; i++) {
        const answer = await post("dev", "grants.credentials", { grantId });
        credential = answer.result?.data.credential as Record<string, unknown> | undefined;
        if (!credential) await new Promise((r) => setTimeout(r, 100));
      }
      expect(credential?.accessKeyId).toMatch(/^ASIA/);
      expect(output()).not.toContain(String(credential?.secretAccessKey));
    } catch (error) {
      await local.stop();
      throw error;
    }
    expect(await local.stop()).toBe(0);
  }, 180_000);
});
