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
 * The single-call shortcut (a GET query, a POST mutation) must answer exactly what tRPC's own Fastify
 * adapter answers: the same status, body and headers, for successes and for every kind of refusal,
 * and leave the rest to tRPC.
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
  refuse: authedProcedure.mutation(() => {
    throw new NotFoundError("there is no such grant, or you may not see it");
  }),
  fail: authedProcedure.mutation(() => {
    throw new Error("connection to 10.0.0.7 refused");
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
const json = { "content-type": "application/json" };
/** A POST of `body` as JSON (none when undefined), with a good token. */
const post = (url: string, body: unknown) => ({
  method: "POST" as const,
  url,
  headers: { ...good, ...json },
  ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
});

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
  { name: "a mutation without a token", ...post("/trpc/change", { n: 2 }), headers: json },
  { name: "a mutation's invalid input", ...post("/trpc/change", { n: "two" }) },
  { name: "a mutation without a body", ...post("/trpc/change", undefined) },
  { name: "a mutation whose body is not JSON", ...post("/trpc/change", undefined), body: "{not-json" },
  {
    name: "a mutation's JSON with a charset, in capitals",
    ...post("/trpc/change", { n: 4 }),
    headers: { ...good, "content-type": "Application/JSON; charset=utf-8" },
  },
  {
    name: "a mutation sent as text",
    ...post("/trpc/change", { n: 5 }),
    headers: { ...good, "content-type": "text/plain" },
  },
  { name: "a mutation with a query string", ...post("/trpc/change?x=1", { n: 6 }) },
  { name: "a query over POST", ...post("/trpc/nothing", {}) },
  { name: "a mutation's domain refusal", ...post("/trpc/refuse", {}) },
  { name: "a mutation's internal error", ...post("/trpc/fail", {}) },
  { name: "a batch of mutations", ...post("/trpc/change,change?batch=1", { 0: { n: 7 }, 1: { n: 8 } }) },
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

describe("tRPC's routes with the single-call shortcut", () => {
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

  it("answers a single query or mutation itself (whole, with a length) and leaves a batch to tRPC (streamed)", async () => {
    const framing = async (request: Omit<(typeof REQUESTS)[number], "name">) => {
      const response = await shortcut.inject({
        method: request.method ?? "GET",
        url: request.url,
        headers: request.headers ?? {},
        ...(request.body !== undefined ? { payload: request.body } : {}),
      });
      return response.headers["content-length"] !== undefined
        ? "whole"
        : response.headers["transfer-encoding"];
    };
    expect(await framing({ url: `/trpc/grants.get?input=${input({ grantId: GRANT })}`, headers: good })).toBe(
      "whole",
    );
    expect(await framing(post("/trpc/change", { n: 9 }))).toBe("whole");
    expect(await framing(post("/trpc/change,change?batch=1", { 0: { n: 1 }, 1: { n: 2 } }))).toBe("chunked");
  });

  it("never runs a mutation from a GET", async () => {
    calls.length = 0;
    await shortcut.inject({ method: "GET", url: `/trpc/change?input=${input({ n: 3 })}`, headers: good });
    expect(calls).toEqual([]);
  });
});
