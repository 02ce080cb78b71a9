import type { GrantOwnership } from "@leasehold/db";
import { describe, expect, it } from "vitest";
import { grantOwnsLeftovers } from "./drift-service.js";

/** The definition of "owned" the drift reconciliation removes by, case by case. */
const now = new Date("2026-12-05T12:00:00Z");
const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000);
const grant = (overrides: Partial<GrantOwnership>): GrantOwnership => ({
  id: "6f1c2a9e-0b7d-4e4a-9c1d-2f3e4a5b6c7d",
  state: "active",
  durationSeconds: 3600,
  createdAt: at(-30),
  expiresAt: at(30),
  endedAt: null,
  releasedAt: null,
  ...overrides,
});
const MARGIN = 300;

describe("which grant owns its backend objects", () => {
  it("every grant that has not ended owns them, mid-issue and revocation debt included, whatever its deadline", () => {
    for (const state of ["issuing", "active", "revoking", "revocation_failed"] as const) {
      expect(grantOwnsLeftovers(grant({ state, expiresAt: at(-600) }), now, MARGIN)).toBe(true);
    }
  });

  it("an ended grant owns them until its release is due: its deadline plus the release margin", () => {
    const revoked = grant({ state: "revoked", endedAt: at(-70), createdAt: at(-80), durationSeconds: 600 });
    expect(grantOwnsLeftovers({ ...revoked, expiresAt: at(1) }, now, MARGIN)).toBe(true);
    expect(grantOwnsLeftovers({ ...revoked, expiresAt: at(-4) }, now, MARGIN)).toBe(true);
    expect(grantOwnsLeftovers({ ...revoked, expiresAt: at(-6) }, now, MARGIN)).toBe(false);
  });

  it("an attempt that was never recorded may live its whole duration after the grant ended", () => {
    const failed = grant({ state: "failed", expiresAt: null, endedAt: at(-50), durationSeconds: 3600 });
    expect(grantOwnsLeftovers(failed, now, MARGIN)).toBe(true);
    expect(grantOwnsLeftovers({ ...failed, endedAt: at(-66) }, now, MARGIN)).toBe(false);
  });

  it("a released grant owns nothing any more", () => {
    const released = grant({ state: "expired", expiresAt: at(10), endedAt: at(-1), releasedAt: at(-1) });
    expect(grantOwnsLeftovers(released, now, MARGIN)).toBe(false);
  });
});
