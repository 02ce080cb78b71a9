import { ErrorCode, type Logger, LogLevel, WebClient } from "@slack/web-api";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSlackSandbox } from "./slack-sandbox.js";
import type { SlackSandbox } from "./slack-sandbox-types.js";

const BOT_TOKEN = "xoxb-sandbox-views";

const quietLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

async function slackError(call: Promise<unknown>): Promise<string> {
  const error: unknown = await call.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toMatchObject({ code: ErrorCode.PlatformError });
  return (error as { data: { error: string } }).data.error;
}

const modal = (title: string, fields: Record<string, unknown> = {}) =>
  ({
    type: "modal",
    title: { type: "plain_text", text: title },
    blocks: [{ type: "section", text: { type: "mrkdwn", text: title } }],
    ...fields,
  }) as never;

describe("Slack stand-in: views and trigger ids", () => {
  let sandbox: SlackSandbox;
  let slack: WebClient;
  const clock = { now: new Date("2026-11-23T12:00:00Z") };
  const advance = (ms: number) => {
    clock.now = new Date(clock.now.getTime() + ms);
  };
  beforeAll(async () => {
    sandbox = await startSlackSandbox({
      botToken: BOT_TOKEN,
      users: [{ id: "U1ALICE", name: "alice" }],
      channels: [],
      clock: () => clock.now,
    });
    slack = new WebClient(BOT_TOKEN, {
      slackApiUrl: sandbox.apiUrl,
      retryConfig: { retries: 0 },
      logger: quietLogger,
    });
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.reset());

  it("views.open with a fresh trigger answers {ok, view: {id, …view}} and records the view", async () => {
    const trigger = sandbox.newTriggerId("U1ALICE");
    expect(trigger).toMatch(/^\d+\.\d+\.[0-9a-f]{32}$/);
    const result = await slack.views.open({
      trigger_id: trigger,
      view: modal("Request access", { callback_id: "request", private_metadata: "{}" }),
    });
    expect(result.view).toMatchObject({
      id: expect.stringMatching(/^V/),
      type: "modal",
      title: { type: "plain_text", text: "Request access" },
      callback_id: "request",
      private_metadata: "{}",
      state: { values: {} },
      hash: expect.any(String),
      team_id: "T0SANDBOX",
    });
    expect(sandbox.views).toEqual([
      expect.objectContaining({ id: result.view?.id, type: "modal", userId: "U1ALICE", updates: 0 }),
    ]);
  });

  it("a trigger is good for 3 seconds by the sandbox clock, then expired_trigger_id", async () => {
    const fresh = sandbox.newTriggerId();
    const stale = sandbox.newTriggerId();
    advance(2999);
    await slack.views.open({ trigger_id: fresh, view: modal("Just in time") });
    advance(1);
    expect(await slackError(slack.views.open({ trigger_id: stale, view: modal("Late") }))).toBe(
      "expired_trigger_id",
    );
  });

  it("a trigger is exchanged once; the second use is exchanged_trigger_id", async () => {
    const trigger = sandbox.newTriggerId();
    await slack.views.open({ trigger_id: trigger, view: modal("First") });
    expect(await slackError(slack.views.open({ trigger_id: trigger, view: modal("Second") }))).toBe(
      "exchanged_trigger_id",
    );
    expect(await slackError(slack.views.push({ trigger_id: trigger, view: modal("Pushed") }))).toBe(
      "exchanged_trigger_id",
    );
  });

  it("a trigger the sandbox did not issue is invalid_trigger_id", async () => {
    expect(
      await slackError(slack.views.open({ trigger_id: "12345.98765.abcd2358fdea", view: modal("Forged") })),
    ).toBe("invalid_trigger_id");
  });

  it("a refused view does not use up the trigger", async () => {
    const trigger = sandbox.newTriggerId();
    const tooLong = modal("A title far longer than twenty-four characters");
    expect(await slackError(slack.views.open({ trigger_id: trigger, view: tooLong }))).toBe(
      "invalid_arguments",
    );
    await slack.views.open({ trigger_id: trigger, view: modal("Fixed") });
  });

  it("views.push takes a trigger like views.open", async () => {
    await slack.views.open({ trigger_id: sandbox.newTriggerId(), view: modal("Root") });
    const pushed = await slack.views.push({ trigger_id: sandbox.newTriggerId(), view: modal("Step 2") });
    expect(pushed.view?.title).toEqual({ type: "plain_text", text: "Step 2" });
    expect(sandbox.views.map((v) => v.view.title)).toHaveLength(2);
  });

  it("views.update replaces a view in place, by view_id or external_id, and checks the hash", async () => {
    const opened = await slack.views.open({
      trigger_id: sandbox.newTriggerId(),
      view: modal("Pending", { external_id: "request-42" }),
    });
    const id = opened.view?.id ?? "";
    const byId = await slack.views.update({
      view_id: id,
      hash: opened.view?.hash ?? "",
      view: modal("Approved"),
    });
    expect(byId.view).toMatchObject({ id, title: { text: "Approved" }, external_id: "request-42" });
    const byExternalId = await slack.views.update({ external_id: "request-42", view: modal("Done") });
    expect(byExternalId.view?.id).toBe(id);
    expect(sandbox.views).toHaveLength(1);
    expect(sandbox.views[0]).toMatchObject({ id, updates: 2, externalId: "request-42" });
    // The hash from the first answer is stale after an update.
    expect(
      await slackError(
        slack.views.update({ view_id: id, hash: opened.view?.hash ?? "", view: modal("Race") }),
      ),
    ).toBe("hash_conflict");
  });

  it("views.update of an unknown view is not_found", async () => {
    expect(await slackError(slack.views.update({ view_id: "V404", view: modal("x") }))).toBe("not_found");
    expect(await slackError(slack.views.update({ external_id: "nope", view: modal("x") }))).toBe("not_found");
  });

  it("an external_id already in use is duplicate_external_id", async () => {
    await slack.views.open({ trigger_id: sandbox.newTriggerId(), view: modal("A", { external_id: "same" }) });
    expect(
      await slackError(
        slack.views.open({ trigger_id: sandbox.newTriggerId(), view: modal("B", { external_id: "same" }) }),
      ),
    ).toBe("duplicate_external_id");
  });

  it("views.publish keeps one Home tab per user, replaced in place", async () => {
    const home = (text: string) =>
      ({ type: "home", blocks: [{ type: "section", text: { type: "mrkdwn", text } }] }) as never;
    const first = await slack.views.publish({ user_id: "U1ALICE", view: home("2 pending") });
    const second = await slack.views.publish({ user_id: "U1ALICE", view: home("1 pending") });
    expect(second.view?.id).toBe(first.view?.id);
    expect(sandbox.views).toEqual([expect.objectContaining({ type: "home", userId: "U1ALICE", updates: 1 })]);
    expect(await slackError(slack.views.publish({ user_id: "U9NOBODY", view: home("x") }))).toBe(
      "invalid_arguments",
    );
    expect(
      await slackError(slack.views.publish({ user_id: "U1ALICE", view: modal("Not a home view") })),
    ).toBe("invalid_arguments");
  });
});
