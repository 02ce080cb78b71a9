import { RetryAfterError, UpstreamError } from "@leasehold/domain";
import { describe, expect, it } from "vitest";
import { renderAlert, renderDirectMessage, slackFailure } from "./slack-messenger.js";

describe("Slack as a messenger", () => {
  it("a rate limit becomes a wait of Slack's Retry-After, not a failure", () => {
    const error = slackFailure("chat.postMessage", {
      code: "slack_webapi_rate_limited_error",
      retryAfter: 3,
    });
    expect(error).toBeInstanceOf(RetryAfterError);
    expect((error as RetryAfterError).retryAfterMs).toBe(3000);
  });

  it("an ok:false answer is a retryable upstream failure naming Slack's code", () => {
    const error = slackFailure("chat.update", {
      code: "slack_webapi_platform_error",
      data: { error: "internal_error" },
    });
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).not.toBeInstanceOf(RetryAfterError);
    expect(error.retryable).toBe(true);
    expect(error.message).toBe("Slack chat.update failed: internal_error");
  });

  it("renders each notice with this package's render functions", () => {
    const dm = renderDirectMessage({ kind: "ended", targetId: "prod", how: "revoked", detail: null });
    expect(dm.text).toContain("prod");
    const alert = renderAlert({
      kind: "rotation-failed",
      rotationId: "orders-app",
      step: "test",
      error: "no login",
      rolledBack: true,
    });
    expect(alert.text).toBe("Rotation orders-app failed at test.");
  });
});
