import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type AwsSandbox, type OidcIssuer, startAwsSandbox, startOidcIssuer } from "@leasehold/sandbox";
import { PEOPLE, ROLE_ARN, TEST_CONFIG, tokenFor } from "@leasehold/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Stack, startStack } from "./stack.js";

/** A span as OTLP/HTTP JSON carries it (ids in hex). */
type OtlpSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
};
type OtlpExport = {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
};

/**
 * The API and the worker as real processes with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a collector
 * stand-in: an approved request shows as one trace across both, api → worker → provider, over OTLP.
 */
describe("traces over OTLP from the API and worker processes", () => {
  const bodies: string[] = [];
  const collector = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8");
    });
    request.on("end", () => {
      if (request.url === "/v1/traces") bodies.push(body);
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  let sandbox: AwsSandbox;
  let issuer: OidcIssuer;
  let stack: Stack | undefined;

  beforeAll(async () => {
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    sandbox = await startAwsSandbox({ roles: [{ arn: ROLE_ARN, maxSessionDurationSeconds: 3600 }] });
    issuer = await startOidcIssuer();
    stack = await startStack({
      sandbox,
      issuerUrl: issuer.url,
      config: TEST_CONFIG,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
        // Batches go out every 100 ms instead of 5 s; what is left goes at shutdown.
        OTEL_BSP_SCHEDULE_DELAY: "100",
      },
    });
  }, 90_000);
  afterAll(async () => {
    await stack?.stop();
    await issuer?.close();
    await sandbox?.close();
    await new Promise<void>((resolve) => collector.close(() => resolve()));
  });

  it("a request approved through the API shows trpc → enqueue → the worker's job → provider.issue, one trace", async () => {
    const running = stack as Stack;
    const tokens = {
      dev: await tokenFor(issuer, "dev"),
      alice: await tokenFor(issuer, "alice"),
      bob: await tokenFor(issuer, "bob"),
    };
    const request = await running.client(tokens.dev).requests.create.mutate({
      targetId: "prod-readonly",
      durationSeconds: 900,
      reason: "investigate INC-42",
      ticket: "OPS-42",
    });
    await running.client(tokens.alice).reviews.submit.mutate({ requestId: request.id, decision: "approve" });
    const approved = await running
      .client(tokens.bob)
      .reviews.submit.mutate({ requestId: request.id, decision: "approve" });
    const grantId = approved.grantId ?? "";
    const credential = await eventually(
      async () =>
        (
          await running
            .client(tokens.dev)
            .grants.credentials.mutate({ grantId })
            .catch(() => undefined)
        )?.credential,
      20_000,
      "the worker to issue the grant",
    );
    if (credential.kind !== "aws-session") throw new Error("expected an AWS session");

    const spans = () =>
      bodies.flatMap((body) =>
        (JSON.parse(body) as OtlpExport).resourceSpans.flatMap((r) => {
          const service = r.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue;
          return r.scopeSpans.flatMap((s) => s.spans.map((span) => ({ ...span, service })));
        }),
      );
    // Walk up from the provider call: each parent is the one named, in the service named. A span is
    // exported when it ends, in its process's next batch: the job's ends after the activating commit
    // (and so may after the credential was read), so the walk waits until it reaches a root.
    const walk = () => {
      const all = spans();
      const byId = new Map(all.map((s) => [s.spanId, s]));
      const found: (typeof all)[number][] = [];
      let span = all.find((s) => s.name === "provider.issue");
      for (; span; span = byId.get(span.parentSpanId ?? "")) found.push(span);
      const top = found.at(-1);
      return top && !top.parentSpanId ? found : undefined;
    };
    const walked = await eventually(
      async () => walk(),
      10_000,
      "the spans from the provider call up to its root",
    );
    const issue = walked[0];
    const chain: string[] = [];
    for (const span of walked) {
      chain.push(`${span.service} ${span.name}`);
      expect(span.traceId).toBe(issue?.traceId);
    }
    expect(chain).toEqual([
      "leasehold-worker provider.issue",
      "leasehold-worker job grant-issue",
      "leasehold-api enqueue grant-issue",
      "leasehold-api trpc reviews.submit",
    ]);
    const text = bodies.join("\n");
    for (const secret of [
      ...Object.values(tokens),
      credential.secretAccessKey,
      credential.sessionToken,
      PEOPLE.dev.email,
    ]) {
      expect(secret.length).toBeGreaterThan(0);
      expect(text.includes(secret)).toBe(false);
    }
  });
});
