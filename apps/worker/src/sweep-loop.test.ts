import { afterEach, describe, expect, it, vi } from "vitest";
import { startSweepLoop } from "./sweep-loop.js";

const logged: { fields: Record<string, unknown>; message: string }[] = [];
const log = {
  info() {},
  warn(fields: Record<string, unknown>, message: string) {
    logged.push({ fields, message });
  },
  error() {},
};

afterEach(() => {
  vi.useRealTimers();
  logged.length = 0;
});

describe("the sweep loop", () => {
  it("sweeps at start and after each interval, and a failing step does not stop the others", async () => {
    vi.useFakeTimers();
    const ran: string[] = [];
    const loop = startSweepLoop({
      intervalMs: 1000,
      log,
      steps: [
        {
          name: "broken",
          run: async () => {
            ran.push("broken");
            throw new Error("connection refused");
          },
        },
        { name: "fine", run: async () => ran.push("fine") },
      ],
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(ran).toEqual(["broken", "fine"]);
    await vi.advanceTimersByTimeAsync(999);
    expect(ran).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(ran).toEqual(["broken", "fine", "broken", "fine"]);
    expect(logged[0]).toMatchObject({
      fields: { step: "broken" },
      message: "sweep step failed; the next sweep retries",
    });
    await loop.close();
    await vi.advanceTimersByTimeAsync(5000);
    expect(ran).toHaveLength(4);
  });

  it("a step with its own interval (the drift scan) runs at its own cadence, slower than the sweep's", async () => {
    vi.useFakeTimers();
    const ran: string[] = [];
    const loop = startSweepLoop({
      intervalMs: 1000,
      log,
      steps: [
        { name: "reconcile", run: async () => ran.push("reconcile") },
        { name: "drift", intervalMs: 5000, run: async () => ran.push("drift") },
      ],
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(ran).toEqual(["reconcile", "drift"]);
    await vi.advanceTimersByTimeAsync(4999);
    expect(ran.filter((r) => r === "reconcile")).toHaveLength(5);
    expect(ran.filter((r) => r === "drift")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(ran.filter((r) => r === "drift")).toHaveLength(2);
    await loop.close();
  });

  it("a step that hangs does not hold up the others", async () => {
    vi.useFakeTimers();
    const ran: string[] = [];
    const loop = startSweepLoop({
      intervalMs: 1000,
      log,
      steps: [
        {
          name: "waits on a dead Redis",
          run: (signal) => new Promise((r) => signal.addEventListener("abort", r)),
        },
        { name: "expires grants", run: async () => ran.push("expire") },
      ],
    });
    await vi.advanceTimersByTimeAsync(3000);
    expect(ran).toEqual(["expire", "expire", "expire", "expire"]);
    await loop.close();
  });

  it("close aborts the sweep in progress and waits for it to end", async () => {
    vi.useFakeTimers();
    let release: () => void = () => {};
    let seen: AbortSignal | undefined;
    let finished = false;
    const started: string[] = [];
    const loop = startSweepLoop({
      intervalMs: 1000,
      log,
      steps: [
        {
          name: "slow",
          run: async (signal) => {
            seen = signal;
            await new Promise<void>((resolve) => {
              release = resolve;
            });
            finished = true;
          },
        },
        { name: "other", run: async () => started.push("other") },
      ],
    });
    await Promise.resolve();
    const closing = loop.close();
    expect(seen?.aborted).toBe(true);
    expect(finished).toBe(false);
    release();
    await closing;
    expect(finished).toBe(true);
    // The other step ran once, at start; a closed loop starts no further run.
    await vi.advanceTimersByTimeAsync(5000);
    expect(started).toEqual(["other"]);
  });
});
