import { NotFoundError } from "@leasehold/domain";
import type { CredentialProvider } from "@leasehold/providers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, createHarness, type Harness } from "./test-harness.js";

const noProvider = { kind: "sql" } as unknown as CredentialProvider;

describe("a broker opened without rotations", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("pglite", noProvider, { targets: [] });
  });
  afterAll(async () => {
    await h.close();
  });

  it("has none: naming one is not found, and nothing is queued or run", async () => {
    await expect(h.broker.rotations.run(admin, "orders-app")).rejects.toThrow(NotFoundError);
    await expect(h.broker.rotations.dryRun(admin, "orders-app")).rejects.toThrow(NotFoundError);
    await expect(h.broker.rotations.start("orders-app", { key: "tick-1", by: "test" })).rejects.toThrow(
      NotFoundError,
    );
    await expect(h.broker.rotations.resumeStalled(new Date(), 10)).resolves.toBe(0);
    expect(await h.deps.store.read((r) => r.rotations.list("orders-app", 10))).toEqual([]);
  });
});
