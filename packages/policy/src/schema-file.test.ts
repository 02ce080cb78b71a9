import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cedarSchema } from "./schema.js";

describe("policies/leasehold.cedarschema", () => {
  it("is the schema Leasehold generates (regenerate: leasehold policy schema > policies/leasehold.cedarschema)", () => {
    const file = fileURLToPath(new URL("../../../policies/leasehold.cedarschema", import.meta.url));
    expect(readFileSync(file, "utf8")).toBe(cedarSchema());
  });
});
