import { type ErrorCode, isDomainError, type Principal, StepUpRequiredError } from "@leasehold/domain";
import { SpanKind, tracingActive, withSpan } from "@leasehold/tracing";
import { initTRPC, TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { ZodError } from "zod";
import type { RateCheck, RateName } from "../rate-limits.js";

/** What every procedure knows about the call. */
export type Context = {
  /** The verified caller, or why the bearer token was refused. */
  readonly auth: { readonly principal: Principal } | { readonly error: string };
  readonly requestId: string;
  readonly logError: (fields: Record<string, unknown>, message: string) => void;
  /** Counts a call against its rate limit (leasehold.yaml's `limits.rates`). */
  readonly checkRate: RateCheck;
};

const CODES: Record<ErrorCode, TRPC_ERROR_CODE_KEY> = {
  NOT_FOUND: "NOT_FOUND",
  FORBIDDEN: "FORBIDDEN",
  CONFLICT: "CONFLICT",
  INVALID_REQUEST: "BAD_REQUEST",
  UNAUTHENTICATED: "UNAUTHORIZED",
  UPSTREAM: "BAD_GATEWAY",
  LIMIT_EXCEEDED: "TOO_MANY_REQUESTS",
};

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    // Input that failed a schema: list each field and what is wrong, never the value sent.
    const issues =
      error.code === "BAD_REQUEST" && error.cause instanceof ZodError
        ? error.cause.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }))
        : undefined;
    // A refusal for want of a fresh sign-in names the target, so the console can send the person to
    // sign in again for it (/auth/login?stepUp=<targetId>) and come back.
    const stepUp =
      error.cause instanceof StepUpRequiredError ? { targetId: error.cause.targetId } : undefined;
    return {
      message: issues
        ? `invalid input: ${issues.map((i) => `${i.path || "input"}: ${i.message}`).join("; ")}`
        : shape.message,
      code: shape.code,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        ...(issues ? { issues } : {}),
        ...(stepUp ? { stepUp } : {}),
      },
    };
  },
});

/** What a middleware's `next()` resolves to, as far as translating its errors goes. */
type CallResult = { readonly ok: true } | { readonly ok: false; readonly error: TRPCError };

/**
 * Translates errors once for the whole API: domain errors keep their message (written to be safe);
 * anything else is logged and answered with a reference, because its message could reveal internals.
 */
function translateErrors<R extends CallResult>(result: R, ctx: Context, path: string): R {
  if (result.ok) return result;
  const error = (result as { error: TRPCError }).error;
  const cause = error.cause ?? error;
  if (isDomainError(cause)) {
    // The cause stays attached so that responseMeta can set Retry-After from a LimitExceededError.
    throw new TRPCError({ code: CODES[cause.code], message: cause.message, cause });
  }
  if (error.code !== "INTERNAL_SERVER_ERROR") return result;
  ctx.logError({ path, requestId: ctx.requestId, err: cause }, "procedure failed");
  throw new TRPCError({
    code: "INTERNAL_SERVER_ERROR",
    message: `internal error (reference ${ctx.requestId})`,
  });
}

/**
 * Every call's one wrapper: `call` (the rest of the chain, errors translated) and, while tracing is on,
 * one span around it named for its procedure: the caller appears by kind only (`human`, `workload` or
 * `anonymous`), never by email or token; the audit trail says who. Outcome is the tRPC error code.
 * One middleware per procedure, with no span's attributes built while tracing is off: tRPC copies the
 * call's options at every layer, which made the layers a fifth of an authenticated lookup's CPU.
 */
function wrapCall<R extends CallResult>(ctx: Context, path: string, call: () => Promise<R>): Promise<R> {
  if (!tracingActive()) return call();
  return withSpan(
    `trpc ${path}`,
    {
      "rpc.system": "trpc",
      "rpc.method": path,
      "leasehold.http.request_id": ctx.requestId,
      "leasehold.principal.kind": "principal" in ctx.auth ? ctx.auth.principal.kind : "anonymous",
    },
    async () => {
      const result = await call();
      if (!result.ok) throw (result as { error: TRPCError }).error;
      return result;
    },
    { kind: SpanKind.SERVER },
  );
}

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(({ ctx, path, next }) =>
  wrapCall(ctx, path, async () => translateErrors(await next(), ctx, path)),
);

/** Every procedure but health checks: refuses callers without a valid bearer token. */
export const authedProcedure = t.procedure.use(({ ctx, path, next }) =>
  wrapCall(ctx, path, async () => {
    if ("error" in ctx.auth) throw new TRPCError({ code: "UNAUTHORIZED", message: ctx.auth.error });
    return translateErrors(await next({ ctx: { principal: ctx.auth.principal } }), ctx, path);
  }),
);

/** An authenticated procedure whose calls count against the caller's `limits.rates.<name>`. */
export const rateLimitedProcedure = (name: RateName) =>
  authedProcedure.use(async ({ ctx, next }) => {
    await ctx.checkRate(name, ctx.principal.id);
    return next();
  });
