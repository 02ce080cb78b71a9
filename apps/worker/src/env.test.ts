import { ConfigError } from "@leasehold/config";
import { describe, expect, it } from "vitest";
import { readWorkerEnv } from "./env.js";

describe("the worker's environment", () => {
  it("runs against the API's PostgreSQL database", () => {
    const url = "postgres://leasehold@db/leasehold";
    expect(readWorkerEnv({ DATABASE_URL: url }).DATABASE_URL).toBe(url);
  });

  it.each([{}, { DATABASE_URL: "" }])("refuses to start without DATABASE_URL (%o), and says why", (env) => {
    const start = () => readWorkerEnv(env);
    expect(start).toThrow(ConfigError);
    expect(start).toThrow(/DATABASE_URL: required/);
    expect(start).toThrow(/the API's PostgreSQL database/);
    expect(start).toThrow(/embedded database .*local mode/);
  });
});
