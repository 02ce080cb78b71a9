import { describe, expect, it } from "vitest";
import { rotationPeriodSeconds } from "./rotation-period.js";

describe("a rotation's period", () => {
  it("is the gap between the two ticks that follow, in UTC", () => {
    const at = new Date("2026-12-06T10:00:00Z");
    expect(rotationPeriodSeconds("0 3 * * *", at)).toBe(86_400);
    expect(rotationPeriodSeconds("*/3 * * * * *", at)).toBe(3);
    expect(rotationPeriodSeconds("0 0 1 1 *", at)).toBe(365 * 86_400);
  });

  it("follows the time it is asked about on an uneven schedule", () => {
    // Weekdays at 03:00: from a Wednesday the next ticks are Thursday's and Friday's; from a Thursday,
    // Friday's and Monday's.
    expect(rotationPeriodSeconds("0 3 * * 1-5", new Date("2026-12-02T04:00:00Z"))).toBe(86_400);
    expect(rotationPeriodSeconds("0 3 * * 1-5", new Date("2026-12-03T04:00:00Z"))).toBe(3 * 86_400);
  });

  it("is null for a schedule that cannot be read", () => {
    expect(rotationPeriodSeconds("every night", new Date("2026-12-06T10:00:00Z"))).toBeNull();
  });
});
