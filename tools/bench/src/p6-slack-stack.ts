import type { AppRouter } from "@leasehold/api/router";
import {
  type AwsSandbox,
  type OidcIssuer,
  type SlackSandbox,
  startAwsSandbox,
  startOidcIssuer,
  startSlackSandbox,
} from "@leasehold/sandbox";
import { ROLE_ARN, type Stack, startStack } from "@leasehold/test-kit";

/**
 * The stack P6 runs against: the real API, worker and Slack bot (HTTP receiver) as child processes,
 * the Slack, AWS and OIDC stand-ins. Its own leasehold.yaml, because Slack clicks need what the bench
 * stack's configuration has not: Slack users mapped to approvers, and enough targets that every
 * interaction finds a request of its own (one pending request per requester and target). Every target
 * needs one approval, so each click is a final approval: the request is approved and a grant issued.
 */
export const SIGNING_SECRET = "5f0e4c2b9a7d41e8b3c6a1f2d4e8b7c9";
const BOT_TOKEN = "xoxb-bench-stand-in-not-a-token";
export const TARGETS = 12;
export const APPROVERS = 10;

export const targetId = (t: number) => `bench-slack-${t}`;
export const approverSlackId = (a: number) => `U0APPR${String(a).padStart(3, "0")}`;
const approverEmail = (a: number) => `approver-${a}@example.com`;
export const requesterEmail = (r: number) => `requester-${r}@example.com`;

function config(): string {
  const approvers = Array.from({ length: APPROVERS }, (_, a) => a);
  const targets = Array.from({ length: TARGETS }, (_, t) => t);
  return `
identityProviders:
  - name: corp
    issuer: "{issuer}"
    audience: leasehold
admins:
  groups: [security]
slack:
  users:
${approvers.map((a) => `    ${approverSlackId(a)}: ${approverEmail(a)}`).join("\n")}
  groups:
    sre: [${approvers.map(approverEmail).join(", ")}]
targets:
${targets
  .map(
    (t) => `  - id: ${targetId(t)}
    kind: aws-role
    requesters: { groups: [engineering] }
    approvers: { groups: [sre] }
    requiredApprovals: 1
    maxDuration: 1h
    aws:
      roleArn: ${ROLE_ARN}`,
  )
  .join("\n")}
limits: { pendingRequests: 1000, activeGrants: 1000, rates: { requests: 100000, revocations: 100000 } }
`;
}

export type SlackBenchStack = {
  readonly stack: Stack<AppRouter>;
  readonly slack: SlackSandbox;
  /** POST target of Slack's requests to the bot. */
  readonly eventsUrl: string;
  /** A tRPC client of the API as requester `r` (group engineering). */
  requesterClient(r: number): Promise<ReturnType<Stack<AppRouter>["client"]>>;
  stop(): Promise<void>;
};

export async function startSlackBenchStack(): Promise<SlackBenchStack> {
  const aws: AwsSandbox = await startAwsSandbox({
    roles: [{ arn: ROLE_ARN, maxSessionDurationSeconds: 3600 }],
  });
  let issuer: OidcIssuer | undefined;
  let slack: SlackSandbox | undefined;
  try {
    issuer = await startOidcIssuer();
    slack = await startSlackSandbox({
      botToken: BOT_TOKEN,
      users: Array.from({ length: APPROVERS }, (_, a) => ({
        id: approverSlackId(a),
        name: `approver-${a}`,
        email: approverEmail(a),
        emailConfirmed: true,
      })),
      channels: [],
      // The bot's refusals and the worker's notices must not be throttled into the measurement.
      rateLimitPerChannelPerSecond: 0,
    });
    const stack = await startStack<AppRouter>({
      sandbox: aws,
      issuerUrl: issuer.url,
      config: config(),
      slackBot: true,
      // The production sweep interval: the bench's load, not a test's fast sweep, beside the bot.
      sweepIntervalSeconds: 15,
      env: { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl },
    });
    const started = { issuer, slack };
    return {
      stack,
      slack,
      eventsUrl: `${stack.botUrl}/slack/events`,
      requesterClient: async (r) =>
        stack.client(
          await started.issuer.mint(
            {
              sub: `sub-requester-${r}`,
              email: requesterEmail(r),
              email_verified: true,
              groups: ["engineering"],
            },
            { audience: "leasehold" },
          ),
        ),
      async stop() {
        await stack.stop();
        await Promise.all([started.issuer.close(), started.slack.close(), aws.close()]);
      },
    };
  } catch (error) {
    await Promise.all([issuer?.close(), slack?.close(), aws.close()]);
    throw error;
  }
}
