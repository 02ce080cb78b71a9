import type {
  DecorateMutationProcedure,
  DecorateQueryProcedure,
  DefaultFeatureFlags,
  inferOutput,
  TRPCOptionsProxy,
} from "@trpc/tanstack-react-query";
import type { AppRouter } from "./api.js";

/**
 * TEMPORARY: procedures being added to the API in parallel with the console (issue 15: the broker's
 * `requests.history`, `grants.timeline`, `grants.revocationDebt`, `rotations.list`; api-login's
 * `sessions.*`; local mode's `local.slackMessages`), typed as their contracts describe them. `trpc.ts`
 * applies this in its one cast; delete this file and that cast once `AppRouter` has them all.
 */
type ErrorShape = AppRouter["_def"]["_config"]["$types"]["errorShape"];
type Def<I, O> = {
  input: I;
  output: O;
  transformer: false;
  errorShape: ErrorShape;
  featureFlags: DefaultFeatureFlags;
};
type Query<I, O> = DecorateQueryProcedure<Def<I, O>>;
type Mutation<I, O> = DecorateMutationProcedure<Def<I, O>>;

type Api = TRPCOptionsProxy<AppRouter>;
type RenderedGrant = inferOutput<Api["grants"]["get"]>;
type RenderedAuditEvent = inferOutput<Api["audit"]["list"]>[number];
type RenderedRotationRun = { id: string; state: string; startedAt: string | null };

export type PendingProcedures = {
  requests: { history: Query<{ requestId: string }, { grants: RenderedGrant[] }> };
  grants: {
    timeline: Query<{ grantId: string }, { events: RenderedAuditEvent[] }>;
    revocationDebt: Query<{ limit?: number }, RenderedGrant[]>;
  };
  rotations: {
    list: Query<
      void,
      {
        id: string;
        kind: string;
        schedule: string;
        targetDescription: string;
        lastRun: RenderedRotationRun | null;
      }[]
    >;
  };
  sessions: {
    list: Query<
      { limit?: number },
      {
        id: string;
        principal: { id: string; kind: string; provider: string };
        authTime: string | null;
        acr: string | null;
        createdAt: string;
        expiresAt: string;
        lastSeenAt: string;
      }[]
    >;
    revoke: Mutation<{ sessionId: string }, { revoked: true }>;
  };
  local: {
    slackMessages: Query<
      void,
      {
        available: boolean;
        messages: {
          channelId: string;
          channelName: string | null;
          isDm: boolean;
          ts: string;
          text: string;
          blocks: unknown[];
        }[];
      }
    >;
  };
};
