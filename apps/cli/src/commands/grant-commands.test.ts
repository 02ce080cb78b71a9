import { describe, expect, it } from "vitest";
import { credentialEnv } from "./grant-commands.js";

const expiresAt = "2026-12-05T02:00:00.000Z";

describe("the environment of a delivered credential, by its kind", () => {
  it("an AWS session gets AWS's own variable names", () => {
    const credential = {
      kind: "aws-session" as const,
      accessKeyId: "ASIAEXAMPLE",
      secretAccessKey: "secret",
      sessionToken: "token",
      expiration: expiresAt,
    };
    expect(credentialEnv({ grantId: "g", expiresAt, credential })).toEqual({
      AWS_ACCESS_KEY_ID: "ASIAEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "secret",
      AWS_SESSION_TOKEN: "token",
      AWS_CREDENTIAL_EXPIRATION: expiresAt,
    });
  });

  it("a database login gets LEASEHOLD_* names for the fields it has, and no kind variable", () => {
    const credential = { kind: "database" as const, username: "lh_x", password: "pw", url: "postgres://…" };
    expect(credentialEnv({ grantId: "g", expiresAt, credential })).toEqual({
      LEASEHOLD_USERNAME: "lh_x",
      LEASEHOLD_PASSWORD: "pw",
      LEASEHOLD_URL: "postgres://…",
    });
  });
});
