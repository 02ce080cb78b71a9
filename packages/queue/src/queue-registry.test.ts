import { describe, expect, it } from "vitest";
import { carriesTrace, grantJobId, queueRegistry } from "./queue-registry.js";

const grantId = "0b6c3f7e-4a1d-4c2b-9e8f-1a2b3c4d5e6f";
const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("trace context in job data", () => {
  it("rides on issue, revoke and rotation runs only: expiry runs hours later, on its own", () => {
    const traced = (Object.keys(queueRegistry) as (keyof typeof queueRegistry)[]).filter(carriesTrace);
    expect(traced.sort()).toEqual(["grantIssue", "grantRevoke", "rotationRun"]);
    expect(queueRegistry.grantIssue.payload.parse({ grantId, trace: { traceparent } })).toEqual({
      grantId,
      trace: { traceparent },
    });
    expect(queueRegistry.grantIssue.payload.parse({ grantId })).toEqual({ grantId });
    expect(queueRegistry.grantExpire.payload.safeParse({ grantId, trace: { traceparent } }).success).toBe(
      false,
    );
  });

  it("is bounded: an oversized or unknown field is refused", () => {
    const parse = (trace: unknown) => queueRegistry.grantRevoke.payload.safeParse({ grantId, trace }).success;
    expect(parse({ traceparent, tracestate: "a=b" })).toBe(true);
    expect(parse({ traceparent: `${traceparent}0` })).toBe(false);
    expect(parse({ traceparent, tracestate: "x".repeat(513) })).toBe(false);
    expect(parse({ traceparent, baggage: "user=dev@example.com" })).toBe(false);
  });
});

describe("a grant's job id", () => {
  it("is the grant's UUID as 22 characters of base64url: one per grant, and back to the UUID", () => {
    const id = grantJobId(grantId);
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(grantJobId(grantId.toUpperCase())).toBe(id);
    expect(grantJobId("0b6c3f7e-4a1d-4c2b-9e8f-1a2b3c4d5e60")).not.toBe(id);
    const hex = Buffer.from(id, "base64url").toString("hex");
    expect(
      `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
    ).toBe(grantId);
  });

  it("is refused for what is not a grant id", () => {
    expect(() => grantJobId("not-a-uuid")).toThrow(/UUID/);
  });
});
