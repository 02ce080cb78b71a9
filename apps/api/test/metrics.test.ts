import { METRIC_CATALOG } from "@leasehold/metrics";
import {
  type AwsSandbox,
  type OidcIssuer,
  type SlackSandbox,
  startAwsSandbox,
  startOidcIssuer,
  startSlackSandbox,
} from "@leasehold/sandbox";
import { freePort, ROLE_ARN, TEST_CONFIG, tokenFor } from "@leasehold/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Stack, startStack } from "./stack.js";

/**
 * /metrics on the three apps started as real processes: the API on its own port, the worker and
 * the bot on METRICS_PORT, all behind METRICS_TOKEN; the names are the catalog's (which the
 * dashboard and the alert rules are checked against in @leasehold/metrics).
 */
const METRICS_TOKEN = "scrape-token-0123456789abcdef";
const BOT_TOKEN = "xoxb-1111111111-leasehold-test";

describe("/metrics on the API, the worker and the Slack bot", () => {
  let aws: AwsSandbox;
  let slack: SlackSandbox;
  let issuer: OidcIssuer;
  let stack: Stack;
  let workerMetrics: string;
  let botMetrics: string;

  beforeAll(async () => {
    aws = await startAwsSandbox({ roles: [{ arn: ROLE_ARN }] });
    slack = await startSlackSandbox({ botToken: BOT_TOKEN, users: [], channels: [] });
    issuer = await startOidcIssuer();
    const [workerPort, botPort] = [await freePort(), await freePort()];
    workerMetrics = `http://127.0.0.1:${workerPort}/metrics`;
    botMetrics = `http://127.0.0.1:${botPort}/metrics`;
    stack = await startStack({
      sandbox: aws,
      issuerUrl: issuer.url,
      config: TEST_CONFIG,
      slackBot: true,
      env: {
        METRICS_TOKEN,
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: "8f742231b10e8888abcd99aaabbbcc85",
        SLACK_API_URL: slack.apiUrl,
      },
      appEnv: {
        worker: { METRICS_PORT: String(workerPort) },
        "slack-bot": { METRICS_PORT: String(botPort) },
      },
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await Promise.all([issuer?.close(), slack?.close(), aws?.close()]);
  });

  const scrape = async (url: string) => {
    const response = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text();
  };
  const types = (body: string) => new Set([...body.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));

  it("refuses a scrape without the token, on every app", async () => {
    for (const url of [`${stack.apiUrl}/metrics`, workerMetrics, botMetrics]) {
      expect((await fetch(url)).status).toBe(401);
      const wrong = await fetch(url, { headers: { authorization: "Bearer scrape-token-0123456789abcdeX" } });
      expect(wrong.status).toBe(401);
    }
  });

  it("the API exports every declared metric, with the database's gauges and its refusals", async () => {
    const dev = stack.client(await tokenFor(issuer, "dev"));
    await dev.requests.create.mutate({
      targetId: "prod-readonly",
      durationSeconds: 900,
      reason: "metrics end to end",
    });
    await expect(stack.client("not-a-jwt").targets.list.query()).rejects.toThrow();

    const body = await scrape(`${stack.apiUrl}/metrics`);
    const exported = types(body);
    for (const { name } of Object.values(METRIC_CATALOG)) expect(exported, name).toContain(name);
    expect(exported).toContain("process_resident_memory_bytes");
    expect(body).toContain('leasehold_requests{state="pending",app="api"} 1');
    expect(body).toContain('leasehold_token_rejections_total{reason="malformed",app="api"} 1');
    expect(body).toMatch(/^leasehold_queue_depth\{queue="grant-issue",app="api"\} 0$/m);
    // Labels are bounded: no request id, email or token appears anywhere.
    expect(body).not.toMatch(/@example\.com|not-a-jwt|[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  it("the worker exports its counters and its sweeps, the bot its process metrics", async () => {
    const worker = await eventually(async () => {
      const body = await scrape(workerMetrics);
      return /^leasehold_sweep_duration_seconds_count\{app="worker"\} [1-9]/m.test(body) ? body : undefined;
    }, 15_000);
    expect(worker).toContain('leasehold_sweep_interval_seconds{app="worker"} 1');
    expect(types(worker)).toContain("leasehold_queue_job_failures_total");
    // The gauges read from the database are the API's alone: one series per installation.
    expect(types(worker)).not.toContain("leasehold_grants");

    const bot = await scrape(botMetrics);
    expect(bot).toMatch(/^process_cpu_seconds_total\{app="slack-bot"\} /m);
    expect(types(bot)).toContain("leasehold_slack_deliveries_total");
  });
});
