import type { AccessKeyMetadata } from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import { planNewKey } from "./iam-access-key.js";

/** Which keys a run may delete before it creates one (the rest of the rotation runs in the broker's test). */
const started = new Date("2026-12-06T06:00:00.700Z");
const key = (id: string, status: "Active" | "Inactive", createdAt: string): AccessKeyMetadata => ({
  AccessKeyId: id,
  Status: status,
  CreateDate: new Date(createdAt),
});
const CURRENT = key("AKIDCURRENT00000001", "Active", "2026-11-01T00:00:00Z");
const plan = (keys: AccessKeyMetadata[], previousKeyId?: string) =>
  planNewKey("tool", keys, { accessKeyId: "AKIDCURRENT00000001", previousKeyId, runStartedAt: started });
const NEITHER = "IAM user tool already has two access keys and neither is managed by Leasehold; delete one";

describe("planning a new IAM access key", () => {
  it("deletes nothing while the user has one key", () => {
    expect(plan([CURRENT])).toEqual({ remove: [] });
  });

  it("deletes the previous value's key once it is Inactive (the delete after the deactivation)", () => {
    const previous = key("AKIDPREVIOUS0000001", "Inactive", "2026-10-01T00:00:00Z");
    expect(plan([previous, CURRENT], "AKIDPREVIOUS0000001")).toEqual({ remove: ["AKIDPREVIOUS0000001"] });
  });

  it("refuses while the previous key is Active again", () => {
    const previous = key("AKIDPREVIOUS0000001", "Active", "2026-10-01T00:00:00Z");
    expect(() => plan([previous, CURRENT], "AKIDPREVIOUS0000001")).toThrow(
      "IAM user tool's previous access key AKIDPREVIOUS0000001 is still Active",
    );
  });

  it("deletes a key this run made and lost (created in the run's second or later), never an older one", () => {
    const lost = key("AKIDLOST00000000001", "Active", "2026-12-06T06:00:00Z");
    expect(plan([CURRENT, lost])).toEqual({ remove: ["AKIDLOST00000000001"] });
    const older = key("AKIDOLDER0000000001", "Active", "2026-12-06T05:59:59Z");
    expect(() => plan([CURRENT, older])).toThrow(NEITHER);
  });

  it("without a run (a dry run), a key that is neither current nor previous is never Leasehold's", () => {
    const recent = key("AKIDRECENT000000001", "Inactive", "2026-12-06T06:00:05Z");
    expect(() =>
      planNewKey("tool", [CURRENT, recent], { accessKeyId: "AKIDCURRENT00000001", previousKeyId: undefined }),
    ).toThrow(NEITHER);
  });

  it("makes room when the current key is gone and one of two others is the Inactive previous one", () => {
    const previous = key("AKIDPREVIOUS0000001", "Inactive", "2026-10-01T00:00:00Z");
    const foreign = key("AKIDFOREIGN00000001", "Active", "2026-11-20T00:00:00Z");
    expect(plan([previous, foreign], "AKIDPREVIOUS0000001")).toEqual({ remove: ["AKIDPREVIOUS0000001"] });
    expect(() => plan([foreign, key("AKIDFOREIGN00000002", "Active", "2026-11-21T00:00:00Z")])).toThrow(
      NEITHER,
    );
  });
});
