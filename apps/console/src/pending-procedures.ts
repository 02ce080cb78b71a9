import type {
  DecorateMutationProcedure,
  DecorateQueryProcedure,
  DefaultFeatureFlags,
} from "@trpc/tanstack-react-query";
import type { AppRouter } from "./api.js";

/**
 * TEMPORARY: procedures being added to the API in parallel with the console (issue 15: api-login's
 * `sessions.*`, typed as that branch renders them; local mode's `local.slackMessages`, as the brief
 * describes it). `trpc.ts` applies this in its one cast; delete this file and that cast once `AppRouter`
 * has them.
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

export type PendingProcedures = {
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
