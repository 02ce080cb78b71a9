import type { IdentityProviderConfig } from "@leasehold/config";
import { systemClock } from "@leasehold/domain";
import type { FastifyBaseLogger } from "fastify";
import { createTokenVerifier } from "./auth/token-verifier.js";
import { buildServer, type Readiness } from "./server.js";
import { type ApiUseCases, createAppRouter } from "./trpc/app-router.js";

/** Serves the API over the use cases it calls; used by main.ts and by local mode. */
export async function startApi(options: {
  useCases: ApiUseCases;
  readiness: Readiness;
  identityProviders: readonly IdentityProviderConfig[];
  host: string;
  port: number;
  log: FastifyBaseLogger;
}): Promise<{ address: string; close(): Promise<void> }> {
  const { log } = options;
  const app = await buildServer({
    appRouter: createAppRouter(options.useCases),
    verifier: createTokenVerifier(options.identityProviders, { clock: systemClock }),
    readiness: options.readiness,
    logger: log,
  });
  const address = await app.listen({ host: options.host, port: options.port });
  log.info({ address }, "leasehold api listening");
  return { address, close: () => app.close() };
}
