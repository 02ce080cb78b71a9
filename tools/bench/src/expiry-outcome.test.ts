import { describe, expect, it } from "vitest";
import { judgeExpiries } from "./expiry-outcome.js";

describe("judgeExpiries", () => {
  it("measures lateness from deadline to end and counts nothing missed within the bound", () => {
    const outcome = judgeExpiries(
      [
        { expiresAtMs: 1_000, endedAtMs: 1_010 },
        { expiresAtMs: 2_000, endedAtMs: 2_400 },
        { expiresAtMs: 3_000, endedAtMs: 3_000 },
      ],
      15_000,
      100_000,
    );
    expect(outcome).toEqual({
      grants: 3,
      missed: 0,
      unended: 0,
      latenessMs: { count: 3, p50: 10, p99: 400, max: 400, mean: 410 / 3 },
    });
  });

  it("counts a grant that ended later than its bound as missed", () => {
    const outcome = judgeExpiries([{ expiresAtMs: 0, endedAtMs: 15_001 }], 15_000, 100_000);
    expect(outcome.missed).toBe(1);
    expect(outcome.latenessMs?.max).toBe(15_001);
  });

  it("counts a grant still active past its bound as missed, and one whose bound has not come as not", () => {
    const outcome = judgeExpiries(
      [
        { expiresAtMs: 0, endedAtMs: null },
        { expiresAtMs: 90_000, endedAtMs: null },
      ],
      15_000,
      100_000,
    );
    expect(outcome).toMatchObject({ grants: 2, missed: 1, unended: 2, latenessMs: undefined });
  });
});
