import { RetryAfterError, UpstreamError } from "@leasehold/domain";
import { UnrecoverableError } from "@leasehold/queue";
import { describe, expect, it } from "vitest";
import { runJob } from "./job-harness.js";

const context = (attempt: number, maxAttempts = 3) => ({
  jobId: "j",
  attempt,
  maxAttempts,
  signal: undefined,
  retryAfter: async (ms: number) => new Error(`put back for ${ms} ms`),
});

describe("turning use-case outcomes into job outcomes", () => {
  it("tells the use case when no retry will follow", async () => {
    const seen: boolean[] = [];
    for (const attempt of [1, 2, 3]) {
      await runJob(context(attempt), async ({ isLast }) => {
        seen.push(isLast);
      });
    }
    expect(seen).toEqual([false, false, true]);
  });

  it("stops retrying what no retry can fix", async () => {
    const refused = new UpstreamError("STS AssumeRole failed: AccessDenied", { retryable: false });
    const error = await runJob(context(1), () => Promise.reject(refused)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toMatch(/AccessDenied/);
  });

  it("lets BullMQ retry what may pass later", async () => {
    const throttled = new UpstreamError("STS AssumeRole failed: Throttling", { retryable: true });
    await expect(runJob(context(1), () => Promise.reject(throttled))).rejects.toBe(throttled);
  });

  it("does not copy an unexpected error's message into the job record", async () => {
    const error = await runJob(context(1), () => Promise.reject(new RangeError("secret=hunter2"))).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toBe("unexpected RangeError");
    expect(String(error)).not.toContain("hunter2");
  });

  it("a backend's retry-after puts the job back for that long instead of failing it", async () => {
    const limited = new RetryAfterError("Slack chat.postMessage is rate limited", 3000);
    const error = await runJob(context(3), () => Promise.reject(limited)).catch((e: unknown) => e);
    expect((error as Error).message).toBe("put back for 3000 ms");
  });

  it("reports giving up on the last attempt, and only then", async () => {
    const given: unknown[] = [];
    const flaky = new UpstreamError("Slack chat.postMessage failed: internal_error", { retryable: true });
    for (const attempt of [1, 2, 3]) {
      await runJob(
        context(attempt),
        () => Promise.reject(flaky),
        (e) => given.push(e),
      ).catch(() => undefined);
    }
    expect(given).toEqual([flaky]);
  });
});
