import { describe, expect, it } from "vitest";
import { coreEnv, databaseEnv, parseEnv } from "./env.js";
import { queueBackendFrom } from "./queue-backend.js";

const backendOf = (env: Record<string, string>) =>
  queueBackendFrom(parseEnv({ ...coreEnv, ...databaseEnv }, env));

describe("the queue backend", () => {
  it("defaults to PostgreSQL when there is a PostgreSQL database, and to Redis on the embedded one", () => {
    expect(backendOf({ DATABASE_URL: "postgres://leasehold@db/leasehold" })).toBe("postgres");
    expect(backendOf({})).toBe("redis");
  });

  it("keeps what is set", () => {
    expect(
      backendOf({ DATABASE_URL: "postgres://leasehold@db/leasehold", LEASEHOLD_QUEUE_BACKEND: "redis" }),
    ).toBe("redis");
  });

  it("refuses postgres on the embedded database, saying what to set", () => {
    expect(() => backendOf({ LEASEHOLD_QUEUE_BACKEND: "postgres" })).toThrow(
      /LEASEHOLD_QUEUE_BACKEND: postgres needs DATABASE_URL/,
    );
  });

  it("refuses a store it does not know", () => {
    expect(() => backendOf({ LEASEHOLD_QUEUE_BACKEND: "kafka" })).toThrow(/LEASEHOLD_QUEUE_BACKEND/);
  });
});
