import {
  type AwsSandbox,
  blockActionPayload,
  interactionBody,
  type OidcIssuer,
  postSignedToApp,
  type SlackSandbox,
  slashCommandBody,
  startAwsSandbox,
  startOidcIssuer,
  startSlackSandbox,
  viewSubmissionPayload,
} from "@leasehold/sandbox";
import { ROLE_ARN, tokenFor } from "@leasehold/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Stack, startStack } from "./stack.js";

/**
 * The Slack flow end to end over real HTTP: signed requests into the bot, the real Bolt and WebClient
 * against the Slack stand-in, the API and the worker as real processes on PostgreSQL and Redis.
 */
const SIGNING_SECRET = "8f742231b10e8888abcd99aaabbbcc85";
const BOT_TOKEN = "xoxb-1111111111-leasehold-test";
const CHANNEL = "C0APPROVERS";
const U = {
  dev: "U0DEV",
  alice: "U0ALICE",
  bob: "U0BOB",
  mallory: "U0MALLORY",
  carol: "U0CAROL",
  eve: "U0EVE",
} as const;

const CONFIG = `
identityProviders:
  - name: corp
    issuer: "{issuer}"
    audience: leasehold
admins:
  groups: [security]
slack:
  useVerifiedEmail: true
  users:
    ${U.carol}: carol@example.com
  groups:
    engineering: [dev@example.com, mallory@example.com, eve@example.com]
    sre: [alice@example.com, bob@example.com, carol@example.com]
targets:
  - id: prod-readonly
    kind: aws-role
    requesters: { groups: [engineering] }
    approvers: { groups: [sre] }
    requiredApprovals: 2
    maxDuration: 1h
    slack: { approversChannel: ${CHANNEL} }
    aws:
      roleArn: ${ROLE_ARN}
`;

describe("Slack: /access → modal → channel message → two approvals → DMs", () => {
  let aws: AwsSandbox;
  let slack: SlackSandbox;
  let issuer: OidcIssuer;
  let stack: Stack;

  beforeAll(async () => {
    aws = await startAwsSandbox({ roles: [{ arn: ROLE_ARN }], sessionAgeOnIssueSeconds: 885 });
    slack = await startSlackSandbox({
      botToken: BOT_TOKEN,
      users: [
        { id: U.dev, name: "dev", email: "dev@example.com", emailConfirmed: true },
        { id: U.alice, name: "alice", email: "alice@example.com", emailConfirmed: true },
        { id: U.bob, name: "bob", email: "bob@example.com", emailConfirmed: true },
        // Slack has not confirmed this address: it must not be trusted as an identity.
        { id: U.mallory, name: "bob", email: "bob@example.com", emailConfirmed: false },
        { id: U.carol, name: "carol" },
        { id: U.eve, name: "eve", email: "eve@example.com", emailConfirmed: true },
      ],
      channels: [{ id: CHANNEL, name: "prod-approvals", memberIds: Object.values(U) }],
      rateLimitPerChannelPerSecond: 1,
    });
    issuer = await startOidcIssuer();
    stack = await startStack({
      sandbox: aws,
      issuerUrl: issuer.url,
      config: CONFIG,
      slackBot: true,
      env: { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl },
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await Promise.all([issuer?.close(), slack?.close(), aws?.close()]);
  });

  const send = (body: string, options: { timestamp?: number; secret?: string; json?: boolean } = {}) =>
    postSignedToApp(`${stack.botUrl}/slack/events`, body, {
      signingSecret: options.secret ?? SIGNING_SECRET,
      ...(options.timestamp ? { timestamp: options.timestamp } : {}),
      ...(options.json ? { contentType: "application/json" } : {}),
    });
  const click = (user: string, actionId: string, value: string, messageTs?: string) =>
    send(
      interactionBody(
        blockActionPayload({
          userId: user,
          actionId,
          value,
          channelId: CHANNEL,
          ...(messageTs ? { messageTs } : {}),
          triggerId: slack.newTriggerId(user),
        }),
      ),
    );
  const ephemeralFor = (user: string, pattern: RegExp) =>
    eventually(
      async () => slack.ephemerals.find((e) => e.user === user && pattern.test(e.text)),
      10_000,
      `${pattern}`,
    );
  const channelMessages = () => slack.messages(CHANNEL);
  const dms = (user: string) => slack.messages(slack.dmChannelOf(user)).map((m) => m.text);
  const requestCount = async () =>
    Number((await stack.db.query<{ n: string }>("SELECT count(*)::text AS n FROM access_requests"))[0]?.n);

  it("refuses unsigned, wrongly signed and replayed requests with 401, changing nothing", async () => {
    const body = slashCommandBody({
      command: "/access",
      userId: U.dev,
      channelId: CHANNEL,
      triggerId: slack.newTriggerId(U.dev),
    });
    const unsigned = await fetch(`${stack.botUrl}/slack/events`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    expect(unsigned.status).toBe(401);
    expect((await send(body, { secret: "0".repeat(32) })).status).toBe(401);
    expect((await send(body, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 })).status).toBe(401);
    expect(slack.views).toHaveLength(0);
    expect(await requestCount()).toBe(0);
  });

  it("runs the whole flow, rewriting one message in place, and never sends a secret to Slack", async () => {
    // 1. /access opens the modal, offering the target dev may request.
    const trigger = slack.newTriggerId(U.dev);
    expect(
      (
        await send(
          slashCommandBody({ command: "/access", userId: U.dev, channelId: CHANNEL, triggerId: trigger }),
        )
      ).status,
    ).toBe(200);
    const modal = await eventually(
      async () => slack.views.find((v) => v.type === "modal" && v.userId === U.dev),
      10_000,
      "the modal",
    );
    expect(JSON.stringify(modal.view)).toContain('"value":"prod-readonly"');

    // 2. A submission over the target's maximum is refused on the duration field; a valid one is accepted.
    const submit = (duration: string) =>
      send(
        interactionBody(
          viewSubmissionPayload({
            userId: U.dev,
            callbackId: "leasehold_request",
            viewId: modal.id,
            values: {
              target: { target: { type: "static_select", selected_option: { value: "prod-readonly" } } },
              duration: { duration: { type: "static_select", selected_option: { value: duration } } },
              reason: { reason: { type: "plain_text_input", value: "Investigate <!channel> INC-9 & co" } },
              ticket: { ticket: { type: "plain_text_input", value: null } },
            },
          }),
        ),
      );
    const tooLong = await submit("7200");
    expect(JSON.parse(tooLong.text)).toMatchObject({
      response_action: "errors",
      errors: { duration: expect.stringMatching(/at most 3600/) },
    });
    expect(await requestCount()).toBe(0);
    const accepted = await submit("900");
    expect(accepted.status).toBe(200);
    expect(accepted.text).toBe("");

    // 3. The request appears once in the approvers' channel, with user text escaped.
    const posted = await eventually(async () => channelMessages()[0], 15_000, "the channel message");
    expect(JSON.stringify(posted.blocks)).toContain("&lt;!channel&gt;");
    const requestId = JSON.stringify(posted.blocks).match(/"value":"([0-9a-f-]{36})"/)?.[1] ?? "";

    // 4. Refusals: the requester, someone Slack has not verified, a repeat click — each ephemeral, nothing changes.
    await click(U.dev, "leasehold_approve", requestId, posted.ts);
    await ephemeralFor(U.dev, /your own request/);
    await click(U.mallory, "leasehold_approve", requestId, posted.ts);
    await ephemeralFor(U.mallory, /cannot tell who you are/);
    await click(U.eve, "leasehold_approve", requestId, posted.ts);
    await ephemeralFor(U.eve, /not an approver/);
    await click(U.eve, "leasehold_deny", requestId, posted.ts);
    await eventually(
      async () => slack.ephemerals.filter((e) => e.user === U.eve).length === 2 || undefined,
      10_000,
      "second refusal",
    );
    await click(U.alice, "leasehold_approve", requestId, posted.ts);
    await eventually(
      async () => (channelMessages()[0]?.updates ?? 0) >= 1 || undefined,
      15_000,
      "the first update",
    );
    expect(JSON.stringify(channelMessages()[0]?.blocks)).toContain("Waiting for 1 more approval");
    await click(U.alice, "leasehold_approve", requestId, posted.ts);
    await ephemeralFor(U.alice, /already reviewed/);

    // 5. The second approval: the same message now says approved, without buttons.
    await click(U.bob, "leasehold_approve", requestId, posted.ts);
    const approved = await eventually(
      async () =>
        JSON.stringify(channelMessages()[0]?.blocks).includes("Approved by")
          ? channelMessages()[0]
          : undefined,
      15_000,
      "the approved message",
    );
    expect(channelMessages()).toHaveLength(1);
    expect(approved.ts).toBe(posted.ts);
    expect(JSON.stringify(approved.blocks)).not.toContain("leasehold_approve");
    await click(U.carol, "leasehold_approve", requestId, posted.ts);
    await ephemeralFor(U.carol, /already approved/);

    // 6. DMs to the requester: approved, granted (how to fetch, not what), reminder with Extend/Revoke, then ended.
    await eventually(
      async () => dms(U.dev).find((t) => /approved by alice@example.com, bob@example.com/.test(t)),
      15_000,
      "approved DM",
    );
    const granted = await eventually(
      async () => dms(U.dev).find((t) => /granted until/.test(t)),
      20_000,
      "granted DM",
    );
    const grantId = granted.match(/leasehold creds ([0-9a-f-]{36})/)?.[1] ?? "";
    const reminder = await eventually(
      async () => slack.messages(slack.dmChannelOf(U.dev)).find((m) => /ends at/.test(m.text)),
      20_000,
      "reminder DM",
    );
    const reminderJson = JSON.stringify(reminder.blocks);
    expect(reminderJson).toContain("leasehold_extend");
    expect(reminderJson).toContain("leasehold_revoke");

    const dev = stack.client(await tokenFor(issuer, "dev"));
    const creds = await dev.grants.credentials.mutate({ grantId });
    if (creds.credential.kind !== "aws-session") throw new Error("expected an AWS session");
    await eventually(async () => dms(U.dev).find((t) => /has expired/.test(t)), 30_000, "the final DM");

    // Nothing a refused click did reached the trail.
    const reviewers = await stack.db.query<{ reviewer_id: string }>(
      "SELECT reviewer_id FROM reviews WHERE request_id = $1 ORDER BY created_at",
      [requestId],
    );
    expect(reviewers.map((r) => r.reviewer_id)).toEqual(["alice@example.com", "bob@example.com"]);

    const everything = slack.allPayloadsText();
    for (const secret of [creds.credential.secretAccessKey ?? "", creds.credential.sessionToken ?? ""]) {
      expect(secret.length).toBeGreaterThan(10);
      expect(everything).not.toContain(secret);
    }
  }, 120_000);

  it("Deny asks for a reason, then rewrites the message and tells the requester", async () => {
    const trigger = slack.newTriggerId(U.dev);
    await send(
      slashCommandBody({ command: "/access", userId: U.dev, channelId: CHANNEL, triggerId: trigger }),
    );
    const modal = await eventually(
      async () => slack.views.filter((v) => v.type === "modal" && v.userId === U.dev).at(-1),
      10_000,
      "the modal",
    );
    await send(
      interactionBody(
        viewSubmissionPayload({
          userId: U.dev,
          callbackId: "leasehold_request",
          viewId: modal.id,
          values: {
            target: { target: { type: "static_select", selected_option: { value: "prod-readonly" } } },
            duration: { duration: { type: "static_select", selected_option: { value: "1800" } } },
            reason: { reason: { type: "plain_text_input", value: "one more look" } },
            ticket: { ticket: { type: "plain_text_input", value: null } },
          },
        }),
      ),
    );
    const message = await eventually(async () => channelMessages()[1], 15_000, "the second request");
    const requestId = JSON.stringify(message.blocks).match(/"value":"([0-9a-f-]{36})"/)?.[1] ?? "";

    // App Home shows alice what waits for her review.
    const homeEvent = JSON.stringify({
      type: "event_callback",
      team_id: "T0SANDBOX",
      api_app_id: "A0SANDBOX",
      event_id: "Ev0HOME1",
      event_time: Math.floor(Date.now() / 1000),
      event: { type: "app_home_opened", user: U.alice, channel: slack.dmChannelOf(U.alice), tab: "home" },
    });
    expect((await send(homeEvent, { json: true })).status).toBe(200);
    const home = await eventually(
      async () => slack.views.find((v) => v.type === "home" && v.userId === U.alice),
      10_000,
      "App Home",
    );
    expect(JSON.stringify(home.view)).toContain("one more look");

    const denyTrigger = slack.newTriggerId(U.alice);
    await send(
      interactionBody(
        blockActionPayload({
          userId: U.alice,
          actionId: "leasehold_deny",
          value: requestId,
          channelId: CHANNEL,
          messageTs: message.ts,
          triggerId: denyTrigger,
        }),
      ),
    );
    const denyModal = await eventually(
      async () => slack.views.find((v) => v.type === "modal" && v.userId === U.alice),
      10_000,
      "the deny modal",
    );
    const denial = (comment: string | null) =>
      send(
        interactionBody(
          viewSubmissionPayload({
            userId: U.alice,
            callbackId: "leasehold_deny",
            viewId: denyModal.id,
            privateMetadata: requestId,
            values: { comment: { comment: { type: "plain_text_input", value: comment } } },
          }),
        ),
      );
    expect(JSON.parse((await denial(null)).text)).toMatchObject({ response_action: "errors" });
    expect((await denial("change freeze until Monday")).status).toBe(200);
    await eventually(
      async () =>
        JSON.stringify(channelMessages()[1]?.blocks).includes("change freeze until Monday")
          ? true
          : undefined,
      15_000,
      "the denied message",
    );
    expect(JSON.stringify(channelMessages()[1]?.blocks)).not.toContain("leasehold_approve");
    await eventually(
      async () => dms(U.dev).find((t) => /denied by alice@example.com/.test(t)),
      15_000,
      "denied DM",
    );
  }, 60_000);

  it("the reminder's Extend and Revoke buttons work for the holder only", async () => {
    const dev = stack.client(await tokenFor(issuer, "dev"));
    const request = await dev.requests.create.mutate({
      targetId: "prod-readonly",
      durationSeconds: 900,
      reason: "extend me",
    });
    for (const who of ["alice", "bob"] as const) {
      await stack
        .client(await tokenFor(issuer, who))
        .reviews.submit.mutate({ requestId: request.id, decision: "approve" });
    }
    const grant = await eventually(
      async () =>
        (await dev.grants.list.query({ limit: 20 })).find(
          (g) => g.requestId === request.id && g.state === "active",
        ),
      20_000,
      "the grant",
    );
    const devDm = slack.dmChannelOf(U.dev);
    const reminder = await eventually(
      async () =>
        slack
          .messages(devDm)
          .find((m) => /ends at/.test(m.text) && JSON.stringify(m.blocks).includes(grant.id)),
      20_000,
      "the reminder",
    );
    const buttons = (reminder.blocks as { elements?: { action_id?: string; value?: string }[] }[]).flatMap(
      (block) => block.elements ?? [],
    );
    const buttonValue = buttons.find((b) => b.action_id === "leasehold_extend")?.value ?? "";
    expect(JSON.parse(buttonValue)).toMatchObject({ grantId: grant.id, extendBySeconds: 1800 });
    const sessionsBefore = aws.issued.length;

    // Someone else pressing the holder's buttons is refused and changes nothing.
    await click(U.eve, "leasehold_extend", buttonValue);
    await ephemeralFor(U.eve, /only the grant's holder may extend/);
    await click(U.eve, "leasehold_revoke", grant.id);
    await ephemeralFor(U.eve, /only the grant's holder or an admin may revoke/);
    expect(aws.issued.length).toBe(sessionsBefore);

    await click(U.dev, "leasehold_extend", buttonValue);
    await eventually(async () => dms(U.dev).find((t) => /extended until/.test(t)), 20_000, "the extended DM");
    expect(aws.issued.at(-1)?.roleSessionName).toBe(`lh-${grant.id}-a2`);

    await click(U.dev, "leasehold_revoke", grant.id);
    await eventually(async () => dms(U.dev).find((t) => /was revoked/.test(t)), 20_000, "the revoked DM");
    expect(aws.rolePolicies("ProdReadOnly")["leasehold-denials"]).toContain(grant.id);
  }, 60_000);
});
