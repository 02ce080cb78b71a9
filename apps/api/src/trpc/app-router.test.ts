import { randomUUID } from "node:crypto";
import { NotFoundError, type Principal } from "@leasehold/domain";
import { describe, expect, it } from "vitest";
import { type ApiUseCases, createAppRouter } from "./app-router.js";
import { LOCAL_SLACK_MAX_MESSAGES } from "./local-slack.js";
import { createCallerFactory } from "./trpc.js";

const dev: Principal = {
  id: "dev@example.com",
  kind: "human",
  provider: "corp",
  subject: "sub-dev",
  groups: [],
};
const id = randomUUID();

/** A valid input for each procedure, so the call reaches its use case. */
const INPUTS: Record<string, unknown> = {
  "targets.list": undefined,
  "requests.create": { targetId: "prod", durationSeconds: 900, reason: "look at INC-1" },
  "requests.get": { requestId: id },
  "requests.list": { view: "mine" },
  "requests.cancel": { requestId: id },
  "requests.breakGlass": { targetId: "prod", reason: "prod is down, INC-9" },
  "requests.reviewBreakGlass": { requestId: id, verdict: "justified" },
  "requests.openBreakGlass": { limit: 10 },
  "requests.history": { requestId: id },
  "reviews.submit": { requestId: id, decision: "approve" },
  "grants.get": { grantId: id },
  "grants.list": { limit: 10 },
  "grants.credentials": { grantId: id },
  "grants.extend": { grantId: id, extendBySeconds: 600 },
  "grants.revoke": { grantId: id },
  "grants.timeline": { grantId: id },
  "grants.revocationDebt": { limit: 10 },
  "leases.create": { targetId: "db" },
  "leases.renew": { grantId: id, incrementSeconds: 600 },
  "rotations.dryRun": { rotationId: "db-password" },
  "rotations.run": { rotationId: "db-password" },
  "rotations.runs": { rotationId: "db-password" },
  "rotations.list": undefined,
  "audit.list": { afterSeq: 0 },
  "audit.verify": undefined,
  "audit.publicKey": undefined,
  "preApprovals.create": {
    principalId: "dev@example.com",
    targetId: "prod",
    endsAt: "2026-12-24T06:00:00Z",
    reason: "maintenance night",
  },
  "preApprovals.list": { targetId: "prod" },
  "preApprovals.revoke": { preApprovalId: id },
  "reports.access": { from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z" },
  "reports.standing": undefined,
  "sessions.list": { limit: 10 },
  "sessions.revoke": { sessionId: id },
};

/** Use cases that only say who was called, by refusing with their own name. */
function namingUseCases(): ApiUseCases {
  const nouns = [
    "targets",
    "requests",
    "reviews",
    "grants",
    "leases",
    "rotations",
    "audit",
    "preApprovals",
    "reports",
    "sessions",
  ];
  const naming = (noun: string) =>
    new Proxy(
      {},
      {
        get: (_target, verb) => () => {
          throw new NotFoundError(`called ${noun}.${String(verb)}`);
        },
      },
    );
  return Object.fromEntries(nouns.map((noun) => [noun, naming(noun)])) as unknown as ApiUseCases;
}

describe("the API's procedures", () => {
  const router = createAppRouter(namingUseCases());
  const caller = createCallerFactory(router)({
    auth: { principal: dev },
    requestId: "test",
    logError: () => {},
    checkRate: async () => {},
  });
  // `me` reads the context only; `local.slackMessages` reads local mode's Slack stand-in (below).
  const procedures = Object.keys(router._def.procedures).filter(
    (path) => path !== "me" && path !== "local.slackMessages",
  );

  it("has an input for every procedure here, so none goes unchecked", () => {
    expect(procedures.sort()).toEqual(Object.keys(INPUTS).sort());
  });

  it.each(Object.keys(INPUTS))("%s calls the use case of the same name", async (path) => {
    const [noun, verb] = path.split(".") as [string, string];
    const procedure = (
      caller as unknown as Record<string, Record<string, (input: unknown) => Promise<unknown>>>
    )[noun]?.[verb];
    await expect(procedure?.(INPUTS[path])).rejects.toThrow(`called ${path}`);
  });
});

describe("local.slackMessages", () => {
  const context = {
    auth: { principal: dev },
    requestId: "test",
    logError: () => {},
    checkRate: async () => {},
  };
  const message = (ts: number) => ({
    channelId: "C0LOCAL",
    channelName: "approvals",
    isDm: false,
    ts: `${ts}.000100`,
    text: `message ${ts}`,
    blocks: [],
  });

  it("answers that it is not available outside local mode", async () => {
    const caller = createCallerFactory(createAppRouter(namingUseCases()))(context);
    expect(await caller.local.slackMessages()).toEqual({ available: false, messages: [] });
  });

  it("answers the newest messages local mode's Slack stand-in holds, at most LOCAL_SLACK_MAX_MESSAGES", async () => {
    const held = Array.from({ length: LOCAL_SLACK_MAX_MESSAGES + 5 }, (_, i) => message(i));
    const router = createAppRouter(namingUseCases(), { messages: async () => held });
    const answer = await createCallerFactory(router)(context).local.slackMessages();
    expect(answer.available).toBe(true);
    expect(answer.messages).toHaveLength(LOCAL_SLACK_MAX_MESSAGES);
    expect(answer.messages[0]?.text).toBe("message 5");
  });

  it("refuses a caller without a valid token", async () => {
    const router = createAppRouter(namingUseCases(), { messages: async () => [message(1)] });
    const anonymous = createCallerFactory(router)({ ...context, auth: { error: "no token" } });
    await expect(anonymous.local.slackMessages()).rejects.toThrow(/no token/);
  });
});
