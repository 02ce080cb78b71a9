import type { AppRouter } from "@leasehold/api/router";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import { CliError, EXIT, exitCodeFor } from "./exit-codes.js";

export type Api = ReturnType<typeof createTRPCClient<AppRouter>>;

/** A client for the API; `bearer` is asked before each call (it may refresh the stored sign-in). */
export function createApi(url: string, bearer: () => Promise<string>): Api {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${url.replace(/\/$/, "")}/trpc`,
        headers: async () => ({ authorization: `Bearer ${await bearer()}` }),
      }),
    ],
  });
}

/** Turns an API or network error into a CliError with the right exit code and a hint of what to do. */
export function explainError(error: unknown, url: string): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof TRPCClientError) {
    // A failure finding the bearer token (not logged in, sign-in expired) before the call was sent.
    if (error.cause instanceof CliError) return error.cause;
    const code = (error.data as { code?: string } | undefined)?.code;
    if (code === undefined && /fetch failed|ECONNREFUSED/i.test(String(error.cause ?? error.message))) {
      return new CliError(
        `cannot reach Leasehold at ${url}; is it running? (set LEASEHOLD_URL)`,
        EXIT.unavailable,
      );
    }
    const hint = code === "UNAUTHORIZED" ? "; run `leasehold login`" : "";
    return new CliError(`${error.message}${hint}`, exitCodeFor(code));
  }
  return new CliError(error instanceof Error ? error.message : String(error), EXIT.failure);
}
