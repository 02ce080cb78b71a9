import { describe, expect, it } from "vitest";
import { renderCreation, validUntil } from "./raw-role-creation.js";

describe("raw role creation", () => {
  it("renders the target's statements as Leasehold would", () => {
    expect(
      renderCreation({ name: "lhb_ab_1", password: "Pw0", expiration: "2030-01-02 03:04:05+00" }),
    ).toEqual([
      `CREATE ROLE "lhb_ab_1" LOGIN PASSWORD 'Pw0' VALID UNTIL '2030-01-02 03:04:05+00'`,
      `GRANT SELECT ON orders TO "lhb_ab_1"`,
    ]);
  });

  it("writes VALID UNTIL in UTC to the second", () => {
    expect(validUntil(new Date("2030-01-02T03:04:05.678Z"))).toBe("2030-01-02 03:04:05+00");
  });
});
