import { describe, expect, it } from "vitest";
import { errorMessage, httpStatus, stepUpTargetId } from "./api-error.js";

describe("api errors", () => {
  it("shows the API's message, or a generic one", () => {
    expect(errorMessage(new Error("you cannot approve your own request"))).toBe(
      "you cannot approve your own request",
    );
    expect(errorMessage("nope")).toBe("Something went wrong. Try again.");
    expect(errorMessage({ message: "" })).toBe("Something went wrong. Try again.");
  });

  it("finds the step-up target in the error's data", () => {
    const error = Object.assign(new Error("sign in again"), {
      data: { code: "FORBIDDEN", httpStatus: 403, stepUp: { targetId: "prod-db" } },
    });
    expect(stepUpTargetId(error)).toBe("prod-db");
    expect(httpStatus(error)).toBe(403);
    expect(stepUpTargetId(Object.assign(new Error("x"), { data: { code: "FORBIDDEN" } }))).toBeNull();
    expect(stepUpTargetId(null)).toBeNull();
  });
});
