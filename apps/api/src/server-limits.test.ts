import { connect, type Socket } from "node:net";
import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { HttpLimits } from "./http-edge.js";
import { buildServer } from "./server.js";
import { type ApiUseCases, createAppRouter } from "./trpc/app-router.js";

/**
 * Limits that protect the API from clients that hold connections open: checked over real sockets,
 * with small limits so each test ends in well under a second.
 */

let app: FastifyInstance | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await app?.close();
  app = undefined;
});

async function listen(limits: Partial<HttpLimits>): Promise<number> {
  app = await buildServer({
    // No procedure is called in these tests: the limits act before any reaches the router.
    appRouter: createAppRouter({} as ApiUseCases),
    verifier: { verify: async () => Promise.reject(new Error("no tokens here")) },
    readiness: {},
    logger: pino({ level: "silent" }),
    limits: { timeoutCheckIntervalMs: 25, ...limits },
    // Never connected: no procedure runs, so nothing is counted.
    rateLimits: {
      store: { kind: "redis", redis: new Redis({ lazyConnect: true }), prefix: "unused" },
      rates: { window: 60, requests: 1, leases: 1, revocations: 1 },
    },
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("not listening on TCP");
  return address.port;
}

type Ending = { data: string; afterMs: number };

/** Opens a socket, writes `sent`, and resolves with what came back once the server closed it. */
function openAndWait(port: number, sent: string, boundMs: number): Promise<Ending> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ host: "127.0.0.1", port });
    sockets.push(socket);
    let data = "";
    const bound = setTimeout(
      () => reject(new Error(`the server kept the connection open for ${boundMs} ms`)),
      boundMs,
    );
    socket.on("connect", () => {
      if (sent) socket.write(sent);
    });
    socket.on("data", (chunk) => {
      data += chunk.toString("latin1");
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(bound);
      resolve({ data, afterMs: performance.now() - started });
    });
  });
}

describe("HTTP connection limits", () => {
  it("answers 408 and closes a request whose body stalls after the headers", async () => {
    const port = await listen({ requestTimeoutMs: 200, headersTimeoutMs: 200 });
    const headers =
      "POST /trpc/requests.create HTTP/1.1\r\nHost: leasehold\r\nContent-Type: application/json\r\n" +
      'Content-Length: 1000\r\n\r\n{"reason":"';
    const ending = await openAndWait(port, headers, 2000);
    expect(ending.data).toMatch(/^HTTP\/1\.1 408 /);
    expect(ending.afterMs).toBeGreaterThanOrEqual(150);
  });

  it("closes a connection whose headers never finish", async () => {
    const port = await listen({ requestTimeoutMs: 200, headersTimeoutMs: 200 });
    const ending = await openAndWait(port, "GET /healthz HTTP/1.1\r\nHost: leas", 2000);
    expect(ending.data).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("closes a connection that sends nothing", async () => {
    const port = await listen({ idleTimeoutMs: 200 });
    const ending = await openAndWait(port, "", 2000);
    expect(ending.data).toBe("");
  });

  it("refuses connections beyond the limit and keeps serving the ones it holds", async () => {
    const port = await listen({ maxConnections: 2 });
    const server = app?.server;
    const accepted = new Promise<void>((resolve) => {
      let count = 0;
      server?.on("connection", () => {
        count += 1;
        if (count === 2) resolve();
      });
    });
    const held = [connect({ host: "127.0.0.1", port }), connect({ host: "127.0.0.1", port })];
    sockets.push(...held);
    await accepted;
    const refused = await openAndWait(port, "GET /healthz HTTP/1.1\r\nHost: leasehold\r\n\r\n", 2000);
    expect(refused.data).toBe("");

    const answer = new Promise<string>((resolve) => held[0]?.once("data", (chunk) => resolve(String(chunk))));
    held[0]?.write("GET /healthz HTTP/1.1\r\nHost: leasehold\r\n\r\n");
    expect(await answer).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe("HTTP methods over a real socket", () => {
  /** Sends one request with `Connection: close` and resolves with the status line. */
  const statusOf = async (port: number, requestLine: string) =>
    (
      await openAndWait(port, `${requestLine}\r\nHost: leasehold\r\nConnection: close\r\n\r\n`, 2000)
    ).data.split("\r\n")[0];

  it("answers TRACE with 405, and a method Node's parser does not know with 400, never 500", async () => {
    const port = await listen({});
    expect(await statusOf(port, "TRACE /trpc/me HTTP/1.1")).toBe("HTTP/1.1 405 Method Not Allowed");
    expect(await statusOf(port, "BREW /trpc/me HTTP/1.1")).toBe("HTTP/1.1 400 Bad Request");
  });
});
