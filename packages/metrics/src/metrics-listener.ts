import { createServer, type Server } from "node:http";
import { metricsAuthorized } from "./metrics-token.js";
import type { AppMetrics } from "./prometheus-metrics.js";

export type MetricsListener = { readonly address: string; close(): Promise<void> };

/**
 * GET /metrics on a port of its own, for the apps that serve no HTTP otherwise (the worker, the
 * Slack bot). Answers nothing else; with `token` set, a scrape must send it as a bearer token.
 */
export async function listenForMetrics(
  metrics: AppMetrics,
  options: { readonly host: string; readonly port: number; readonly token?: string | undefined },
): Promise<MetricsListener> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "").split("?")[0];
    if (request.method !== "GET" || path !== "/metrics") {
      response.writeHead(404).end();
      return;
    }
    if (!metricsAuthorized(options.token, request.headers.authorization)) {
      response.writeHead(401, { "www-authenticate": "Bearer" }).end();
      return;
    }
    metrics.render().then(
      ({ contentType, body }) => response.writeHead(200, { "content-type": contentType }).end(body),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return { address: addressOf(server), close: () => closeServer(server) };
}

function addressOf(server: Server): string {
  const address = server.address();
  if (address === null || typeof address === "string") return String(address);
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve, reject) => {
    server.closeAllConnections();
    server.close((error) => (error ? reject(error) : resolve()));
  });
