import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { trace } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withSpan } from "./spans.js";
import { startTracing } from "./start-tracing.js";

/** A collector stand-in: keeps what is POSTed to it, by path. */
const received: { path: string; contentType: string; body: string }[] = [];
const collector = createServer((request, response) => {
  let body = "";
  request.on("data", (chunk: Buffer) => {
    body += chunk.toString("utf8");
  });
  request.on("end", () => {
    received.push({ path: request.url ?? "", contentType: request.headers["content-type"] ?? "", body });
    response.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
});
let endpoint: string;
beforeAll(async () => {
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => collector.close(() => resolve())));

describe("startTracing with OTEL_EXPORTER_OTLP_ENDPOINT", () => {
  it("exports spans over OTLP/HTTP to the endpoint's /v1/traces, allow-listed, by the time it stops", async () => {
    const stop = startTracing({
      serviceName: "leasehold-api",
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint },
    });
    await withSpan("trpc grants.credentials", { "rpc.method": "grants.credentials" }, async () => {
      trace.getActiveSpan()?.setAttribute("http.request.header.authorization", "Bearer eyJhbGciOi.secret");
    });
    await stop();
    expect(received.map((r) => r.path)).toEqual(["/v1/traces"]);
    const [exported] = received;
    expect(exported?.contentType).toContain("application/json");
    expect(exported?.body).toContain("trpc grants.credentials");
    expect(exported?.body).toContain("leasehold-api");
    expect(exported?.body).not.toContain("eyJhbGciOi");
    expect(exported?.body).not.toContain("authorization");
  });
});
