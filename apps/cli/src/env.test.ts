import { describe, expect, it } from "vitest";
import { readCliEnv } from "./env.js";

describe("LEASEHOLD_URL", () => {
  it.each([
    "https://leasehold.example.com",
    "http://127.0.0.1:8080",
    "http://127.3.2.1",
    "http://localhost:8080",
    "http://[::1]:8080",
  ])("accepts %s", (url) => {
    expect(readCliEnv({ LEASEHOLD_URL: url }).url).toBe(url);
  });

  it.each(["http://leasehold.internal:8080", "http://127.0.0.1.example.com", "http://10.0.0.5"])(
    "refuses plain http to another machine: %s",
    (url) => {
      expect(() => readCliEnv({ LEASEHOLD_URL: url })).toThrow(
        /LEASEHOLD_URL: must be https:\/\/ \(plain http:\/\/ only to this machine\)/,
      );
    },
  );

  it("defaults to local mode's address", () => {
    expect(readCliEnv({}).url).toBe("http://127.0.0.1:8080");
  });
});
