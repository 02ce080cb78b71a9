import { ConfigError } from "@leasehold/config";
import { describe, expect, it } from "vitest";
import { readBotEnv } from "./env.js";

const token = "xoxb-1111111111-abcdefghij";
const secret = "8f742231b10e8888abcd99aaabbbcc85";
/** The bot is a separate process: it always runs against the API's PostgreSQL database. */
const database = { DATABASE_URL: "postgres://leasehold@db/leasehold" };

describe("the bot's environment", () => {
  it("runs over HTTP with a signing secret", () => {
    expect(readBotEnv({ ...database, SLACK_BOT_TOKEN: token, SLACK_SIGNING_SECRET: secret }).slack).toEqual({
      mode: "http",
      botToken: token,
      signingSecret: secret,
    });
  });

  it("takes the previous signing secret while switching secrets", () => {
    const previous = "0123456789abcdef0123456789abcdef";
    expect(
      readBotEnv({
        ...database,
        SLACK_BOT_TOKEN: token,
        SLACK_SIGNING_SECRET: secret,
        SLACK_SIGNING_SECRET_PREVIOUS: previous,
      }).slack,
    ).toEqual({ mode: "http", botToken: token, signingSecret: secret, previousSigningSecret: previous });
  });

  it("runs over Socket Mode with an app token", () => {
    expect(
      readBotEnv({ ...database, SLACK_BOT_TOKEN: token, SLACK_APP_TOKEN: "xapp-1-abcdefghijkl" }).slack.mode,
    ).toBe("socket");
  });

  it.each([
    [{ SLACK_SIGNING_SECRET: secret }, /SLACK_BOT_TOKEN: set the bot token/],
    [{ SLACK_BOT_TOKEN: token }, /Set exactly one of SLACK_SIGNING_SECRET .* or SLACK_APP_TOKEN/],
    [
      { SLACK_BOT_TOKEN: token, SLACK_SIGNING_SECRET: secret, SLACK_APP_TOKEN: "xapp-1-abcdefghijkl" },
      /exactly one/,
    ],
    [
      { SLACK_BOT_TOKEN: "xoxp-user-token-123456", SLACK_SIGNING_SECRET: secret },
      /SLACK_BOT_TOKEN: must be a bot token: xoxb- followed by 10–250 letters, digits and dashes/,
    ],
    [
      { SLACK_BOT_TOKEN: "xoxb-has spaces in it", SLACK_SIGNING_SECRET: secret },
      /SLACK_BOT_TOKEN: must be a bot token: xoxb- followed by 10–250 letters, digits and dashes/,
    ],
    [
      { SLACK_BOT_TOKEN: token, SLACK_APP_TOKEN: "xoxb-not-an-app-token" },
      /SLACK_APP_TOKEN: must be an app-level token: xapp- followed by 10–250 letters, digits and dashes/,
    ],
    [
      { SLACK_BOT_TOKEN: token, SLACK_SIGNING_SECRET: secret, SLACK_SIGNING_SECRET_PREVIOUS: secret },
      /SLACK_SIGNING_SECRET_PREVIOUS: must be the secret before SLACK_SIGNING_SECRET, not the same one/,
    ],
    [
      {
        SLACK_BOT_TOKEN: token,
        SLACK_APP_TOKEN: "xapp-1-abcdefghijkl",
        SLACK_SIGNING_SECRET_PREVIOUS: "0123456789abcdef0123456789abcdef",
      },
      /SLACK_SIGNING_SECRET_PREVIOUS: set it only beside SLACK_SIGNING_SECRET/,
    ],
    [
      { SLACK_BOT_TOKEN: token, SLACK_SIGNING_SECRET: secret, SLACK_SIGNING_SECRET_PREVIOUS: "nope" },
      /SLACK_SIGNING_SECRET_PREVIOUS: must be the app's previous signing secret/,
    ],
    [
      { SLACK_BOT_TOKEN: token, SLACK_SIGNING_SECRET: "not-hex" },
      /SLACK_SIGNING_SECRET: must be the app's signing secret: 32–64 lower-case hex characters/,
    ],
  ])("refuses %o and says what to set, without echoing it", (env, message) => {
    let thrown: unknown;
    try {
      readBotEnv({ ...database, ...env });
    } catch (error) {
      thrown = error;
    }
    expect(String(thrown)).toMatch(message);
    for (const value of Object.values(env)) expect(String(thrown)).not.toContain(value);
  });

  it("refuses to start without DATABASE_URL, and says why (no embedded database of its own)", () => {
    const start = () => readBotEnv({ SLACK_BOT_TOKEN: token, SLACK_SIGNING_SECRET: secret });
    expect(start).toThrow(ConfigError);
    expect(start).toThrow(/DATABASE_URL: required/);
    expect(start).toThrow(/the API's PostgreSQL database/);
  });
});
