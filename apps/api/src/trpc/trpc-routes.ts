import type { AnyTRPCRouter } from "@trpc/server";
import { callTRPCProcedure, getErrorShape, getTRPCErrorFromUnknown, TRPCError } from "@trpc/server";
import { type FastifyHandlerOptions, fastifyRequestHandler } from "@trpc/server/adapters/fastify";
import { getHTTPStatusCode } from "@trpc/server/http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** The headers every tRPC answer carries, from the errors it reports (none when it succeeded). */
export type TrpcHeaders = (errors: readonly TRPCError[]) => Readonly<Record<string, string>>;

type Options<TRouter extends AnyTRPCRouter> = {
  readonly prefix: string;
  readonly router: TRouter;
  readonly createContext: (opts: { req: FastifyRequest; res: FastifyReply }) => Promise<unknown>;
  readonly headers: TrpcHeaders;
};

/** A procedure path as the API names them (`grants.get`): anything else goes to tRPC's own handler. */
const PROCEDURE_PATH = /^[A-Za-z][\w.]{0,99}$/;

/**
 * tRPC's routes, as @trpc/server's fastifyTRPCPlugin mounts them (the same body parsers and methods),
 * with one shortcut: a single call — a GET query, or a POST mutation with a JSON body (no batch, no
 * streaming, no other content type) — is answered here, with tRPC's own procedure call, error shape,
 * status and headers, but without turning the Node request into a WHATWG Request and the answer into a
 * Response and a stream (two abort signals, header validation, a URL parse and a stream read per call:
 * a third of an authenticated lookup's CPU, and a tenth of the API's CPU per lease).
 * Everything else, and any request the shortcut does not recognise, goes to tRPC's handler unchanged.
 */
export async function registerTrpcRoutes<TRouter extends AnyTRPCRouter>(
  app: FastifyInstance,
  options: Options<TRouter>,
): Promise<void> {
  const trpcOptions = {
    router: options.router,
    createContext: options.createContext,
    responseMeta: ({ errors }: { errors: readonly TRPCError[] }) => ({ headers: options.headers(errors) }),
  } as FastifyHandlerOptions<TRouter, FastifyRequest, FastifyReply>;
  await app.register(async (scope) => {
    scope.removeContentTypeParser("application/json");
    scope.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) =>
      done(null, body),
    );
    scope.removeContentTypeParser("multipart/form-data");
    scope.addContentTypeParser("multipart/form-data", {}, (_request, body, done) => done(null, body));
    scope.all<{ Params: { path: string } }>(`${options.prefix}/:path`, async (req, res) => {
      const path = req.params.path;
      const call = plainCall(options.router, req, path);
      if (call) return answerCall(options, req, res, path, call);
      await fastifyRequestHandler({ ...trpcOptions, req, res, path });
    });
  });
}

/** A single call the shortcut answers: its type and its raw input (JSON text; undefined or "" for none). */
type PlainCall = { readonly type: "query" | "mutation"; readonly raw: unknown };

/**
 * The call, when the request is one the shortcut answers exactly as tRPC would: a GET query whose only
 * parameter is `input`, or a POST mutation without parameters whose content type is JSON (tRPC's own
 * test of it: the media type before any `;`, in any case). Anything else is tRPC's to answer.
 */
function plainCall(router: AnyTRPCRouter, req: FastifyRequest, path: string): PlainCall | undefined {
  if (!PROCEDURE_PATH.test(path)) return undefined;
  const { headers } = req;
  if (headers["trpc-accept"] !== undefined || headers["last-event-id"] !== undefined) return undefined;
  const type = headers["content-type"];
  const query = req.query as Record<string, unknown>;
  let call: PlainCall;
  if (req.method === "GET") {
    if (type !== undefined && !type.startsWith("application/json")) return undefined;
    for (const key in query) if (key !== "input") return undefined;
    if (query.input !== undefined && typeof query.input !== "string") return undefined;
    call = { type: "query", raw: query.input };
  } else if (req.method === "POST") {
    if (type?.split(";", 1)[0]?.trim().toLowerCase() !== "application/json") return undefined;
    for (const _key in query) return undefined;
    if (req.body !== undefined && typeof req.body !== "string") return undefined;
    call = { type: "mutation", raw: req.body };
  } else {
    return undefined;
  }
  const procedure = (router._def.procedures as Record<string, { _def: { type: string } } | undefined>)[path];
  return procedure?._def.type === call.type ? call : undefined;
}

/** What tRPC's resolveResponse sets on every JSON answer, after the router's own headers. */
const ANSWER_HEADERS = { vary: "trpc-accept, accept", "content-type": "application/json" } as const;

/** What tRPC's resolveResponse answers for one call, built directly. */
async function answerCall<TRouter extends AnyTRPCRouter>(
  options: Options<TRouter>,
  req: FastifyRequest,
  res: FastifyReply,
  path: string,
  { type, raw }: PlainCall,
): Promise<FastifyReply> {
  const config = options.router._def._config;
  let input: unknown;
  // As tRPC reads a call's input (JSON in `input` or the body), anything unreadable a BAD_REQUEST saying why.
  const getRawInput = async () => {
    try {
      input =
        typeof raw === "string" && raw !== ""
          ? config.transformer.input.deserialize(JSON.parse(raw))
          : undefined;
    } catch (cause) {
      if (cause instanceof TRPCError) throw cause;
      const message = cause instanceof Error ? cause.message : "Invalid input";
      throw new TRPCError({ code: "BAD_REQUEST", message, cause });
    }
    return input;
  };
  let ctx: unknown;
  // The answer before and after the router's transformer (the status is read from the one before).
  let plain: unknown;
  let body: unknown;
  let error: TRPCError | undefined;
  try {
    ctx = await options.createContext({ req, res });
    const data = await callTRPCProcedure({
      router: options.router,
      path,
      getRawInput,
      ctx,
      type,
      signal: undefined,
      batchIndex: 0,
    });
    // What transformTRPCResponse makes of it, without its copies of the envelope.
    plain = { result: { data } };
    body = { result: { data: config.transformer.output.serialize(data) } };
  } catch (cause) {
    error = getTRPCErrorFromUnknown(cause);
    const shape = getErrorShape({ config, ctx, error, input, path, type });
    plain = { error: shape };
    body = { error: config.transformer.output.serialize(shape) };
  }
  res.code(getHTTPStatusCode(plain as Parameters<typeof getHTTPStatusCode>[0], error ? [error] : []));
  res.headers(options.headers(error ? [error] : []));
  res.headers(ANSWER_HEADERS);
  // A Buffer, so that Fastify keeps tRPC's content type as it is (it adds a charset to a string's).
  return res.send(Buffer.from(JSON.stringify(body)));
}
