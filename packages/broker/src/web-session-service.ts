import type { WebSession } from "@leasehold/db";
import { ForbiddenError, NotFoundError, type Principal } from "@leasehold/domain";
import type { BrokerDeps } from "./broker-deps.js";
import { mayReadAudit } from "./policy-checks.js";

type Deps = Pick<BrokerDeps, "store" | "policy" | "clock" | "newId">;

/** `last_seen_at` is written at most this often per session. */
const TOUCH_EVERY_MS = 60_000;

/** A session as admins see it: who, since when, until when; never a hash. */
export type WebSessionView = Omit<WebSession, "csrfHash">;

/**
 * The console's sign-in sessions. The API's edge starts, finds and ends them by the SHA-256 of the
 * cookie's id (it never hands this service the id itself); listing and revoking are for whom the
 * ReadAudit policies allow (leasehold.yaml's admins), the same rule as reading the audit trail.
 */
export function createWebSessionService(deps: Deps) {
  const { store, clock } = deps;
  const assertAdmin = (principal: Principal) => {
    if (!mayReadAudit(deps, principal)) throw new ForbiddenError("only admins may see or revoke sessions");
  };
  return {
    async start(input: {
      readonly idHash: Buffer;
      readonly csrfHash: Buffer;
      readonly principal: Principal;
      readonly authTime: Date | null;
      readonly acr: string | null;
      readonly ttlSeconds: number;
    }): Promise<WebSessionView> {
      const now = clock();
      const { authentication: _notStored, ...principal } = input.principal;
      const session = {
        id: deps.newId(),
        principal,
        csrfHash: input.csrfHash,
        authTime: input.authTime,
        acr: input.acr,
        createdAt: now,
        expiresAt: new Date(now.getTime() + input.ttlSeconds * 1000),
      };
      await store.read((repos) => repos.webSessions.insert({ ...session, idHash: input.idHash }));
      return { ...session, lastSeenAt: now };
    },

    /** The open (not ended, not expired) session of this cookie, its activity recorded; or nothing. */
    async find(idHash: Buffer): Promise<WebSession | undefined> {
      const now = clock();
      return store.read(async (repos) => {
        const session = await repos.webSessions.findOpen(idHash, now);
        if (session && now.getTime() - session.lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
          await repos.webSessions.touch(idHash, now, TOUCH_EVERY_MS);
        }
        return session;
      });
    },

    /** Sign-out: ends this cookie's session. */
    async end(idHash: Buffer, endedBy: string): Promise<boolean> {
      return store.read((repos) => repos.webSessions.endByHash(idHash, clock(), endedBy));
    },

    async list(principal: Principal, page: { readonly limit: number }): Promise<WebSessionView[]> {
      assertAdmin(principal);
      const sessions = await store.read((repos) => repos.webSessions.listOpen(clock(), page.limit));
      return sessions.map(({ csrfHash: _hash, ...view }) => view);
    },

    /** Ends someone's session at once: their next call with its cookie is refused. */
    async revoke(principal: Principal, sessionId: string): Promise<{ readonly revoked: true }> {
      assertAdmin(principal);
      const ended = await store.read((repos) =>
        repos.webSessions.endById(sessionId, clock(), `revoked by ${principal.id}`),
      );
      if (!ended) throw new NotFoundError("no open session has this id");
      return { revoked: true };
    },
  };
}

export type WebSessionService = ReturnType<typeof createWebSessionService>;
