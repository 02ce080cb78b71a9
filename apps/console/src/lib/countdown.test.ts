import { describe, expect, it } from "vitest";
import { formatCountdown, formatDurationSeconds } from "./countdown.js";

const at = Date.parse("2026-01-01T12:00:00.000Z");

describe("formatCountdown", () => {
  it("shows hours, minutes and seconds left", () => {
    expect(formatCountdown("2026-01-01T13:05:03.000Z", at)).toBe("1h 05m 03s");
    expect(formatCountdown("2026-01-01T12:04:09.000Z", at)).toBe("4m 09s");
    expect(formatCountdown("2026-01-01T12:00:12.500Z", at)).toBe("12s");
  });

  it("says expired at and after the deadline", () => {
    expect(formatCountdown("2026-01-01T12:00:00.000Z", at)).toBe("expired");
    expect(formatCountdown("2026-01-01T11:00:00.000Z", at)).toBe("expired");
  });

  it("handles a grant not issued yet and a malformed instant", () => {
    expect(formatCountdown(null, at)).toBe("not issued yet");
    expect(formatCountdown("soon", at)).toBe("unknown");
  });
});

describe("formatDurationSeconds", () => {
  it("writes durations compactly", () => {
    expect(formatDurationSeconds(2700)).toBe("45m");
    expect(formatDurationSeconds(5400)).toBe("1h 30m");
    expect(formatDurationSeconds(20)).toBe("20s");
    expect(formatDurationSeconds(0)).toBe("0s");
  });
});
