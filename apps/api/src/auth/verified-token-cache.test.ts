import type { Principal } from "@leasehold/domain";
import { describe, expect, it } from "vitest";
import { createVerifiedTokenCache } from "./verified-token-cache.js";

const principal = (id: string): Principal => ({
  id,
  kind: "workload",
  provider: "k8s",
  subject: id,
  groups: [],
});
const T = 1_800_000_000_000;

describe("verified token cache", () => {
  it("answers for the exact token it was given, until the token's exp", () => {
    const cache = createVerifiedTokenCache({ maxEntries: 10, maxAgeMs: 60_000 });
    cache.set("a.b.c", principal("one"), T + 30_000, T);
    expect(cache.get("a.b.c", T)?.id).toBe("one");
    expect(cache.get("a.b.c", T + 29_999)?.id).toBe("one");
    expect(cache.get("a.b.d", T)).toBeUndefined();
    expect(cache.get("a.b.c", T + 30_000)).toBeUndefined();
  });

  it("forgets an entry after maxAge even when the token lives longer", () => {
    const cache = createVerifiedTokenCache({ maxEntries: 10, maxAgeMs: 60_000 });
    cache.set("t", principal("one"), T + 3_600_000, T);
    expect(cache.get("t", T + 59_999)?.id).toBe("one");
    expect(cache.get("t", T + 60_000)).toBeUndefined();
  });

  it("does not answer for a time before the verification (a clock that went back)", () => {
    const cache = createVerifiedTokenCache({ maxEntries: 10, maxAgeMs: 60_000 });
    cache.set("t", principal("one"), T + 30_000, T);
    expect(cache.get("t", T - 1)).toBeUndefined();
  });

  it("keeps nothing for a token already expired", () => {
    const cache = createVerifiedTokenCache({ maxEntries: 10, maxAgeMs: 60_000 });
    cache.set("t", principal("one"), T, T);
    expect(cache.get("t", T)).toBeUndefined();
  });

  it("makes room by dropping the oldest entry", () => {
    const cache = createVerifiedTokenCache({ maxEntries: 2, maxAgeMs: 60_000 });
    cache.set("first", principal("1"), T + 30_000, T);
    cache.set("second", principal("2"), T + 30_000, T);
    cache.set("third", principal("3"), T + 30_000, T);
    expect(cache.get("first", T)).toBeUndefined();
    expect(cache.get("second", T)?.id).toBe("2");
    expect(cache.get("third", T)?.id).toBe("3");
  });
});
