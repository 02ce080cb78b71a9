import { UpstreamError } from "@leasehold/domain";
import { UnrecoverableError } from "@leasehold/queue";
import { describe, expect, it } from "vitest";
import { asJob } from "./grant-processors.js";

const context = (attempt: number, maxAttempts = 3) => ({
  jobId: "j",
  attempt,
  maxAttempts,
  signal: undefined,
  retryAfter: async () => new Error("not used here"),
});

describe("turning use-case outcomes into job outcomes", () => {
  it("tells the use case when no retry will follow", async () => {
    const seen: boolean[] = [];
    for (const attempt of [1, 2, 3]) {
      await asJob(context(attempt), async ({ isLast }) => {
        seen.push(isLast);
      });
    }
    expect(seen).toEqual([false, false, true]);
  });

  it("stops retrying what no retry can fix", async () => {
    const refused = new UpstreamError("STS AssumeRole failed: AccessDenied", { retryable: false });
    const error = await asJob(context(1), () => Promise.reject(refused)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toMatch(/AccessDenied/);
  });

  it("lets BullMQ retry what may pass later", async () => {
    const throttled = new UpstreamError("STS AssumeRole failed: Throttling", { retryable: true });
    await expect(asJob(context(1), () => Promise.reject(throttled))).rejects.toBe(throttled);
  });

  it("does not copy an unexpected error's message into the job record", async () => {
    const error = await asJob(context(1), () => Promise.reject(new RangeError("secret=hunter2"))).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toBe("unexpected RangeError");
    expect(String(error)).not.toContain("hunter2");
  });
});
