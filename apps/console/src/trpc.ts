import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { createTRPCContext, type inferOutput, type TRPCOptionsProxy } from "@trpc/tanstack-react-query";
import type { AppRouter } from "./api.js";

/** The typed tRPC hooks: every call and its result are typed from the API's router, nothing written by hand. */
const context = createTRPCContext<AppRouter>();
export const { TRPCProvider } = context;

export const { useTRPC } = context;

/**
 * The API client: same origin, the session cookie sent by the browser, and the session's CSRF token on
 * every call (the API requires it on cookie-authenticated POSTs; harmless on GETs).
 */
export function createApiClient(csrfToken: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: "/trpc",
        headers: () => ({ "x-leasehold-csrf": csrfToken }),
        fetch: (url, init) =>
          fetch(url, { ...init, signal: init?.signal ?? null, credentials: "same-origin" }),
      }),
    ],
  });
}

type Api = TRPCOptionsProxy<AppRouter>;

/** Result shapes the pages share, as the API renders them. */
export type Grant = inferOutput<Api["grants"]["get"]>;
export type AccessRequest = inferOutput<Api["requests"]["get"]>;
export type Target = inferOutput<Api["targets"]["list"]>[number];
export type AuditEvent = inferOutput<Api["audit"]["list"]>[number];
