import { LimitExceededError, NotFoundError, type Principal } from "@leasehold/domain";
import type { TRPCError } from "@trpc/server";
import { fastifyTRPCPlugin } from "@trpc/server/adapters/fastify";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { trpcHeaders } from "../server.js";
import { authedProcedure, type Context, publicProcedure, router } from "./trpc.js";
import { registerTrpcRoutes } from "./trpc-routes.js";

/**
 * The GET-query shortcut must answer exactly what tRPC's own Fastify adapter answers: the same status,
 * body and headers, for successes and for every kind of refusal, and leave the rest to tRPC.
 */
const WORKLOAD: Principal = { id: "k8s:w", kind: "workload", provider: "k8s", subject: "w", groups: [] };
const calls: string[] = [];

const testRouter = router({
  grants: router({
    get: authedProcedure
      .input(z.object({ grantId: z.uuid() }))
      .query(({ input }) => ({ id: input.grantId, at: new Date(0).toISOString() })),
  }),
  missing: publicProcedure.query(() => {
    throw new NotFoundError("there is no such grant, or you may not see it");
  }),
  broken: publicProcedure.query(() => {
    throw new Error("connection to 10.0.0.7 refused");
  }),
  limited: publicProcedure.query(() => {
    throw new LimitExceededError("limits.rates.leases", "too many", 7);
  }),
  nothing: publicProcedure.query(() => undefined),
  change: authedProcedure.input(z.object({ n: z.number() })).mutation(({ input }) => {
    calls.push(`change ${input.n}`);
    return { n: input.n };
  }),
});

const createContext = async ({ req }: { req: FastifyRequest }): Promise<Context> => ({
  auth:
    req.headers.authorization === "Bearer good" ? { principal: WORKLOAD } : { error: "send a bearer token" },
  requestId: "req-1",
  logError: () => undefined,
  checkRate: async () => undefined,
});

let shortcut: FastifyInstance;
let stock: FastifyInstance;

beforeAll(async () => {
  shortcut = Fastify();
  await registerTrpcRoutes(shortcut, {
    prefix: "/trpc",
    router: testRouter,
    createContext,
    headers: trpcHeaders,
  });
  stock = Fastify();
  await stock.register(fastifyTRPCPlugin, {
    prefix: "/trpc",
    trpcOptions: {
      router: testRouter,
      createContext,
      responseMeta: ({ errors }: { errors: readonly TRPCError[] }) => ({ headers: trpcHeaders(errors) }),
    },
  });
});
afterAll(async () => {
  await shortcut.close();
  await stock.close();
});

const GRANT = "4c1f0b52-9d1e-4a4b-8b0e-2f6a0e1d7c3a";
const input = (value: unknown) => encodeURIComponent(JSON.stringify(value));
const good = { authorization: "Bearer good" };

const REQUESTS: {
  name: string;
  method?: "GET" | "POST" | "HEAD";
  url: string;
  headers?: Record<string, string>;
  body?: string;
}[] = [
  { name: "a query", url: `/trpc/grants.get?input=${input({ grantId: GRANT })}`, headers: good },
  { name: "without a token", url: `/trpc/grants.get?input=${input({ grantId: GRANT })}` },
  { name: "invalid input", url: `/trpc/grants.get?input=${input({ grantId: "nope" })}`, headers: good },
  { name: "no input", url: "/trpc/grants.get", headers: good },
  { name: "empty input", url: "/trpc/grants.get?input=", headers: good },
  { name: "input that is not JSON", url: "/trpc/grants.get?input=%7Bnot-json", headers: good },
  { name: "a domain refusal", url: "/trpc/missing" },
  { name: "an internal error", url: "/trpc/broken" },
  { name: "a limit with Retry-After", url: "/trpc/limited" },
  { name: "undefined data", url: "/trpc/nothing" },
  { name: "an unknown procedure", url: "/trpc/nowhere" },
  { name: "a mutation over GET", url: `/trpc/change?input=${input({ n: 1 })}`, headers: good },
  { name: "a batch", url: `/trpc/missing,nothing?batch=1&input=${input({})}` },
  {
    name: "input given twice",
    url: `/trpc/grants.get?input=${input({ grantId: GRANT })}&input=x`,
    headers: good,
  },
  { name: "a streaming accept", url: "/trpc/nothing", headers: { "trpc-accept": "application/jsonl" } },
  { name: "HEAD", method: "HEAD", url: "/trpc/nothing" },
  {
    name: "a mutation",
    method: "POST",
    url: "/trpc/change",
    headers: { ...good, "content-type": "application/json" },
    body: JSON.stringify({ n: 2 }),
  },
];

const answer = async (app: FastifyInstance, request: (typeof REQUESTS)[number]) => {
  const response = await app.inject({
    method: request.method ?? "GET",
    url: request.url,
    headers: request.headers ?? {},
    ...(request.body !== undefined ? { payload: request.body } : {}),
  });
  // Framing only: tRPC streams its body (chunked), the shortcut sends it whole (Content-Length).
  const {
    date: _date,
    "content-length": _length,
    "transfer-encoding": _chunked,
    ...headers
  } = response.headers;
  return { status: response.statusCode, headers, body: response.body };
};

describe("tRPC's routes with the GET-query shortcut", () => {
  it.each(REQUESTS)("answers $name exactly as tRPC's own adapter does", async (request) => {
    const expected = await answer(stock, request);
    expect(await answer(shortcut, request)).toEqual(expected);
  });

  it("keeps what matters on its answers: no caching, a JSON body, and Retry-After on a limit", async () => {
    const ok = await answer(shortcut, REQUESTS[0] ?? { name: "", url: "" });
    expect(ok.status).toBe(200);
    expect(ok.headers["cache-control"]).toBe("no-store");
    expect(ok.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(ok.body)).toEqual({ result: { data: { id: GRANT, at: new Date(0).toISOString() } } });
    const limited = await shortcut.inject({ method: "GET", url: "/trpc/limited" });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers["retry-after"]).toBe("7");
    const broken = await shortcut.inject({ method: "GET", url: "/trpc/broken" });
    expect(broken.body).not.toContain("10.0.0.7");
  });

  it("never runs a mutation from a GET", async () => {
    calls.length = 0;
    await shortcut.inject({ method: "GET", url: `/trpc/change?input=${input({ n: 3 })}`, headers: good });
    expect(calls).toEqual([]);
  });
});
