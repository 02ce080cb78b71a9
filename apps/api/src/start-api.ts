import type { IdentityProviderConfig } from "@leasehold/config";
import { systemClock } from "@leasehold/domain";
import type { OpenBroker } from "@leasehold/runtime";
import type { FastifyBaseLogger } from "fastify";
import { createTokenVerifier } from "./auth/token-verifier.js";
import { buildServer } from "./server.js";
import { createAppRouter } from "./trpc/app-router.js";

/** Serves the API over an opened broker; used by main.ts and by local mode. */
export async function startApi(options: {
  open: OpenBroker;
  identityProviders: readonly IdentityProviderConfig[];
  host: string;
  port: number;
  log: FastifyBaseLogger;
}): Promise<{ address: string; close(): Promise<void> }> {
  const { open, log } = options;
  const app = await buildServer({
    appRouter: createAppRouter(open.broker),
    verifier: createTokenVerifier(options.identityProviders, { clock: systemClock }),
    readiness: { database: () => open.db.query("SELECT 1"), redis: () => open.producer.ping() },
    logger: log,
  });
  const address = await app.listen({ host: options.host, port: options.port });
  log.info({ address, targets: open.targets.list().length }, "leasehold api listening");
  return { address, close: () => app.close() };
}
