import type { ExpiryItem, ExpiryResult } from "@leasehold/broker";
import { UpstreamError } from "@leasehold/domain";
import { describe, expect, it } from "vitest";
import { createExpiryBatcher, EXPIRY_CALLS_IN_FLIGHT } from "./expiry-batcher.js";

const attempt = { isLast: false };

/** A stand-in for expireMany that records its calls and lets the test decide when each one ends. */
function recorder(outcome: (item: ExpiryItem) => ExpiryResult) {
  const calls: string[][] = [];
  const pending: (() => void)[] = [];
  const expireMany = (items: readonly ExpiryItem[]) => {
    calls.push(items.map((i) => i.grantId));
    return new Promise<ExpiryResult[]>((resolve) => {
      pending.push(() => resolve(items.map(outcome)));
    });
  };
  const finishNext = async () => {
    while (pending.length === 0) await new Promise((r) => setImmediate(r));
    pending.shift()?.();
  };
  /** Ends the second call still pending, leaving the first (the hung one) running. */
  const finishSecond = () => pending.splice(1, 1)[0]?.();
  const finishAll = async () => {
    while (pending.length > 0) {
      pending.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { calls, expireMany, finishNext, finishSecond, finishAll };
}

describe("the expiry batcher", () => {
  it("jobs arriving together share one call", async () => {
    const r = recorder((item) => ({ grantId: item.grantId, outcome: "expired" }));
    const batcher = createExpiryBatcher(r.expireMany);
    const first = ["a", "b", "c"].map((id) => batcher.expire(id, attempt));
    await r.finishNext();
    // "a".."c" went out together.
    expect(r.calls).toEqual([["a", "b", "c"]]);
    expect(await Promise.all(first)).toEqual(["expired", "expired", "expired"]);

    const second = batcher.expire("d", attempt);
    await new Promise((resolve) => setImmediate(resolve));
    const third = ["e", "f"].map((id) => batcher.expire(id, attempt));
    await r.finishNext();
    await r.finishNext();
    expect(r.calls).toEqual([["a", "b", "c"], ["d"], ["e", "f"]]);
    expect(await Promise.all([second, ...third])).toEqual(["expired", "expired", "expired"]);
  });

  it("a call that hangs holds up only its own batch; beyond the calls in flight, jobs wait together", async () => {
    const r = recorder((item) => ({ grantId: item.grantId, outcome: "expired" }));
    const batcher = createExpiryBatcher(r.expireMany);
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    const hung = batcher.expire("hung", attempt);
    await tick();
    const others: Promise<string>[] = [];
    for (let i = 1; i < EXPIRY_CALLS_IN_FLIGHT; i++) {
      others.push(batcher.expire(`g${i}`, attempt));
      await tick();
    }
    expect(r.calls).toHaveLength(EXPIRY_CALLS_IN_FLIGHT);
    // Every call is busy: these two wait, together, for the first call that ends.
    const late = ["x", "y"].map((id) => batcher.expire(id, attempt));
    await tick();
    expect(r.calls).toHaveLength(EXPIRY_CALLS_IN_FLIGHT);
    r.finishSecond();
    expect(await others[0]).toBe("expired");
    await tick();
    expect(r.calls.at(-1)).toEqual(["x", "y"]);
    await r.finishAll();
    expect(await Promise.all([hung, ...others, ...late])).toHaveLength(EXPIRY_CALLS_IN_FLIGHT + 2);
  });

  it("each job gets its own outcome: one grant failing fails only its job", async () => {
    const notDue = new UpstreamError("grant b is not due", { retryable: true });
    const r = recorder((item) =>
      item.grantId === "b" ? { grantId: "b", error: notDue } : { grantId: item.grantId, outcome: "skipped" },
    );
    const batcher = createExpiryBatcher(r.expireMany);
    const jobs = ["a", "b", "c"].map((id) => batcher.expire(id, attempt));
    await r.finishNext();
    const settled = await Promise.allSettled(jobs);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((settled[1] as PromiseRejectedResult).reason).toBe(notDue);
  });

  it("a call that throws fails every job of its batch, and the next batch still runs", async () => {
    let calls = 0;
    const batcher = createExpiryBatcher(async (items) => {
      calls += 1;
      if (calls === 1) throw new Error("connection terminated");
      return items.map((item) => ({ grantId: item.grantId, outcome: "expired" as const }));
    });
    const failed = await Promise.allSettled([batcher.expire("a", attempt), batcher.expire("b", attempt)]);
    expect(failed.map((s) => s.status)).toEqual(["rejected", "rejected"]);
    expect(await batcher.expire("c", attempt)).toBe("expired");
  });
});
