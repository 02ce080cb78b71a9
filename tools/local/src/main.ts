import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startApi } from "@leasehold/api/start-api";
import { reconcileOptionsFor } from "@leasehold/broker";
import { parseConfig } from "@leasehold/config";
import { createPagerDutySource } from "@leasehold/providers";
import { createLogger, type OpenBroker, onShutdown, openBrokerFromEnv, runMain } from "@leasehold/runtime";
import {
  type OidcIssuer,
  SANDBOX_ACCESS_KEY,
  type SlackSandbox,
  startAwsSandbox,
  startOidcIssuer,
  startPagerDutySandbox,
  startSlackSandbox,
} from "@leasehold/sandbox";
import { startSlackBot } from "@leasehold/slack-bot/start-slack-bot";
import { startTracing } from "@leasehold/tracing";
import { startWorker } from "@leasehold/worker/start-worker";
import { readLocalEnv, wantsRealAws } from "./env.js";
import {
  LOCAL_OIDC,
  LOCAL_PAGERDUTY,
  LOCAL_PEOPLE,
  LOCAL_ROLE_ARN,
  LOCAL_SLACK,
  localConfig,
} from "./local-policy.js";
import { localDatabase } from "./local-postgres.js";
import { localSlackOutbox } from "./local-slack.js";

/** Local tokens last a working day, so a walkthrough does not need fresh ones. */
const LOCAL_WORKER_CONCURRENCY = 4;

const TOKEN_LIFETIME_SECONDS = 12 * 3600;

/**
 * Local mode: the API, the worker and the Slack bot in one process, on a PostgreSQL server of its own
 * (or DATABASE_URL's), with an OIDC stand-in and seeded identities, and the AWS stand-in unless real
 * AWS settings are present. Nothing here is meant for production: it says so when it starts.
 */
runMain(async () => {
  const env = readLocalEnv();
  const dataDir = resolve(env.LEASEHOLD_DATA_DIR);
  const log = createLogger("leasehold-local", env.LOG_LEVEL);
  const stopTracing = startTracing({ serviceName: "leasehold-local", env });

  const issuer = await startLocalIssuer();
  const pagerDuty = await startLocalPagerDuty();
  const configText = localConfig(issuer.url, pagerDuty.url);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dataDir, "leasehold.local.yaml"), configText);
  const config = parseConfig(configText, join(dataDir, "leasehold.local.yaml"));

  const sandbox = wantsRealAws(env) ? undefined : await startAwsSandbox({ roles: [{ arn: LOCAL_ROLE_ARN }] });
  // Slack: the Web API stand-in and the bot over HTTP with a generated signing secret, so the whole
  // flow (request message, approvals, DMs) runs; real Slack is not reachable from local mode.
  const slack = await startLocalSlack();
  const database = await localDatabase(env, dataDir);
  const open = await openBrokerFromEnv({ ...env, ...database.settings, LEASEHOLD_DATA_DIR: dataDir }, log, {
    config,
    reconcile: reconcileOptionsFor(env.LEASEHOLD_SWEEP_INTERVAL),
    expiry: { providerCallsAtOnce: LOCAL_WORKER_CONCURRENCY },
    slack: { token: LOCAL_SLACK.botToken, apiUrl: slack.apiUrl },
    onCall: createPagerDutySource({ apiUrl: pagerDuty.url, token: LOCAL_PAGERDUTY.token }),
    // One process runs all three apps here: one registry, with the gauges, served on the API's /metrics.
    metrics: { app: "local", healthGauges: true },
    ...(sandbox
      ? { aws: { region: env.AWS_REGION, endpoint: sandbox.url, credentials: SANDBOX_ACCESS_KEY } }
      : {}),
  });
  const worker = await startWorker({
    useCases: { ...open.broker, notifications: open.notifications },
    queue: open.queue,
    ensureSchedules: open.ensureSchedules,
    concurrency: LOCAL_WORKER_CONCURRENCY,
    lockMs: 30_000,
    sweepIntervalMs: env.LEASEHOLD_SWEEP_INTERVAL * 1000,
    log,
    metrics: open.metrics.metrics,
  });
  open.metrics.setSweepInterval(env.LEASEHOLD_SWEEP_INTERVAL);
  const api = await startLocalApi(open, config, env, log, { issuer, slack });
  const signingSecret = randomBytes(32).toString("hex");
  const bot = await startSlackBot({
    useCases: open.broker,
    settings: config.slack,
    connection: { mode: "http", botToken: LOCAL_SLACK.botToken, signingSecret },
    apiUrl: slack.apiUrl,
    host: env.HOST,
    port: 0,
    log,
    replayStore: open.shortLivedState,
    consoleUrl: api.address,
  });
  await writeTokens(issuer, dataDir);

  onShutdown(log, async () => {
    await api.close();
    await bot.close();
    await worker.close();
    await open.close();
    await database.stop();
    await sandbox?.close();
    await slack.close();
    await pagerDuty.close();
    await issuer.close();
    await stopTracing();
  });
  process.stderr.write(
    banner(api.address, dataDir, sandbox !== undefined, bot.address ?? "", {
      database: database.description,
      queues: queuesLine(open.queue),
    }),
  );
});

/**
 * The API with the console, signed in to through the OIDC stand-in (plain HTTP on loopback, so no
 * Secure cookie), and the Slack stand-in's messages for the console's Slack page.
 */
async function startLocalApi(
  open: OpenBroker,
  config: ReturnType<typeof parseConfig>,
  env: ReturnType<typeof readLocalEnv>,
  log: ReturnType<typeof createLogger>,
  { issuer, slack }: { issuer: OidcIssuer; slack: SlackSandbox },
) {
  const api = await startApi({
    useCases: open.broker,
    readiness: open.readiness,
    identityProviders: config.identityProviders,
    host: env.HOST,
    port: env.PORT,
    log,
    rateLimits: { store: open.shortLivedState, rates: config.limits.rates },
    metrics: { port: open.metrics.metrics, render: open.metrics.render },
    ...(consoleBuilt() ? { consoleDir: CONSOLE_DIR } : {}),
    insecureCookies: true,
    login: { provider: loginProvider(config) },
    targets: config.targets,
    localSlack: localSlackOutbox(slack),
  });
  // The redirect URI is known once the API listens (PORT may be 0).
  issuer.allowRedirectUri(LOCAL_OIDC.consoleClientId, `${api.address}/auth/callback`);
  return api;
}

/** The built console (`pnpm start` builds it first); absent, the API serves the rest and the banner says so. */
const CONSOLE_DIR = fileURLToPath(new URL("../../../apps/console/dist", import.meta.url));
const consoleBuilt = () => existsSync(join(CONSOLE_DIR, "index.html"));

/** The OIDC stand-in with the seeded people, the console's client and the CLI's. */
function startLocalIssuer() {
  return startOidcIssuer({
    people: Object.entries(LOCAL_PEOPLE).map(([name, p]) => ({
      sub: name,
      email: p.email,
      name,
      groups: [...p.groups],
    })),
    clients: [
      { clientId: LOCAL_OIDC.consoleClientId, redirectUris: [], grantTypes: ["authorization_code"] },
      {
        clientId: LOCAL_OIDC.cliClientId,
        redirectUris: [],
        grantTypes: ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
      },
    ],
  });
}

/** The identity provider people sign in through (local mode's config has exactly one). */
function loginProvider(config: ReturnType<typeof parseConfig>) {
  const provider = config.identityProviders.find((p) => p.login !== undefined);
  if (!provider) throw new Error("local mode's configuration names no provider to sign in with");
  return provider;
}

/** Slack's Web API stand-in with the seeded people and the approvers' channel. */
function startLocalSlack() {
  return startSlackSandbox({
    botToken: LOCAL_SLACK.botToken,
    users: Object.values(LOCAL_PEOPLE).map((p) => ({
      id: p.slackId,
      name: p.email.split("@")[0] ?? "",
      email: p.email,
      emailConfirmed: true,
    })),
    channels: [
      {
        id: LOCAL_SLACK.channel,
        name: "local-approvals",
        memberIds: Object.values(LOCAL_PEOPLE).map((p) => p.slackId),
      },
    ],
    rateLimitPerChannelPerSecond: 0,
  });
}

/** PagerDuty's stand-in with the seeded people, dev on call for the sandbox service. */
function startLocalPagerDuty() {
  const people = Object.values(LOCAL_PEOPLE);
  return startPagerDutySandbox({
    token: LOCAL_PAGERDUTY.token,
    users: people.map((p) => ({ id: p.slackId.replace("U0", "P"), name: p.email, email: p.email })),
    escalationPolicies: [{ id: LOCAL_PAGERDUTY.escalationPolicy, name: "sandbox" }],
    services: [
      { id: LOCAL_PAGERDUTY.service, name: "sandbox", escalationPolicyId: LOCAL_PAGERDUTY.escalationPolicy },
    ],
    oncalls: [
      {
        userId: LOCAL_PEOPLE.dev.slackId.replace("U0", "P"),
        escalationPolicyId: LOCAL_PAGERDUTY.escalationPolicy,
        level: 1,
        start: null,
        end: null,
      },
    ],
  });
}

/** A fresh token for each seeded person under `<dataDir>/tokens/`, readable by this user only. */
async function writeTokens(issuer: OidcIssuer, dataDir: string): Promise<void> {
  const tokenDir = join(dataDir, "tokens");
  mkdirSync(tokenDir, { recursive: true, mode: 0o700 });
  for (const [name, person] of Object.entries(LOCAL_PEOPLE)) {
    const now = Math.floor(Date.now() / 1000);
    const token = await issuer.mint(
      { sub: name, email: person.email, email_verified: true, groups: [...person.groups] },
      { audience: "leasehold", exp: now + TOKEN_LIFETIME_SECONDS },
    );
    const path = join(tokenDir, `${name}.jwt`);
    writeFileSync(path, token, { mode: 0o600 });
    chmodSync(path, 0o600);
  }
}

/** Where the queues are, for the banner. */
function queuesLine(queue: OpenBroker["queue"]): string {
  return queue.backend === "postgres"
    ? `PostgreSQL, schema ${queue.schema}`
    : `Redis at ${redactedUrl(queue.redisUrl)} (LEASEHOLD_QUEUE_BACKEND=redis)`;
}

/** A URL without its password, for printing. */
const redactedUrl = (url: string) => {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
};

function banner(
  address: string,
  dataDir: string,
  aws: boolean,
  botAddress: string,
  stores: { database: string; queues: string },
): string {
  const people = Object.entries(LOCAL_PEOPLE)
    .map(([name, p]) => `    ${name.padEnd(6)} ${p.email.padEnd(20)} ${p.role}`)
    .join("\n");
  const call = (who: string, procedure: string, body: string) =>
    `curl -s -H "authorization: Bearer $(cat ${dataDir}/tokens/${who}.jwt)" -H 'content-type: application/json' \\\n      -d '${body}' ${address}/trpc/${procedure}`;
  return `
  Leasehold is running in LOCAL MODE. Not for production.
    console    ${consoleBuilt() ? `${address}/   (sign in as dev, alice, bob or sec on the identity provider's page)` : "not built: run `pnpm --filter @leasehold/console build` (`pnpm start` does) and start again"}
    API        ${address}/trpc   (health: ${address}/readyz)
    state      ${dataDir} (local master key, tokens)
    database   ${stores.database}
    queues     ${stores.queues}
    identity   a local OIDC stand-in; tokens for the seeded people are in ${dataDir}/tokens/
    AWS        ${aws ? "the STS/IAM stand-in on loopback: no real AWS is touched" : "real AWS, from your AWS_* settings"}
    Slack      the bot at ${botAddress}/slack/events, talking to a Slack stand-in that keeps what it is sent

  People:
${people}

  Try it in the browser: open ${address}/ and sign in as dev; ask for sandbox-readonly; sign in as
  alice and bob in other browser profiles (or private windows) and approve under Approvals; back as
  dev, show the credentials; as sec, see the audit trail verified. What the bot sent to Slack is
  under Slack (local).

  Or with curl:
    1. ask for access as dev:
      ${call("dev", "requests.create", '{"targetId":"sandbox-readonly","durationSeconds":900,"reason":"trying Leasehold"}')}
    2. approve as alice, then bob (use the request id from step 1):
      ${call("alice", "reviews.submit", '{"requestId":"<id>","decision":"approve"}')}
    3. fetch the credentials as dev (the grant id is in bob's answer):
      ${call("dev", "grants.credentials", '{"grantId":"<grant id>"}')}
    4. read and verify the audit trail as sec:
      curl -s -H "authorization: Bearer $(cat ${dataDir}/tokens/sec.jwt)" ${address}/trpc/audit.verify

`;
}
