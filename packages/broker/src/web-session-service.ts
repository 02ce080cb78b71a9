import type { WebLogin, WebSession } from "@leasehold/db";
import { ForbiddenError, NotFoundError, type Principal } from "@leasehold/domain";
import { commitAudited } from "./audited-change.js";
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
      await commitAudited(store, now, async (repos, record) => {
        await repos.webSessions.insert({ ...session, idHash: input.idHash });
        record({
          actor: principal.id,
          action: "session.started",
          subjectType: "session",
          subjectId: session.id,
          data: {
            authTime: session.authTime?.toISOString() ?? null,
            acr: session.acr,
            expiresAt: session.expiresAt.toISOString(),
          },
        });
      });
      return { ...session, lastSeenAt: now };
    },

    /** Keeps a sign-in in flight (by the hash of the browser's handle) for whichever replica gets its callback. */
    async holdLogin(handleHash: Buffer, login: WebLogin): Promise<void> {
      await store.read((repos) => repos.webLogins.insert(handleHash, login, clock()));
    },

    /** The sign-in in flight of this handle, once; nothing when unknown, taken already or expired. */
    async takeLogin(handleHash: Buffer): Promise<WebLogin | undefined> {
      return store.read((repos) => repos.webLogins.take(handleHash, clock()));
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

    /** Sign-out (or a new sign-in in the same browser, `reason`): ends this cookie's session. */
    async end(idHash: Buffer, reason: string): Promise<boolean> {
      const now = clock();
      return commitAudited(store, now, async (repos, record) => {
        const ended = await repos.webSessions.endByHash(idHash, now, reason);
        if (ended) {
          record({
            actor: ended.principalId,
            action: "session.ended",
            subjectType: "session",
            subjectId: ended.id,
            data: { reason },
          });
        }
        return ended !== undefined;
      });
    },

    ...createWebSessionAdmin(deps),
  };
}

/** Listing and revoking sessions: admins only (the ReadAudit policies). */
function createWebSessionAdmin(deps: Deps) {
  const { store, clock } = deps;
  const assertAdmin = (principal: Principal) => {
    if (!mayReadAudit(deps, principal)) throw new ForbiddenError("only admins may see or revoke sessions");
  };
  return {
    async list(principal: Principal, page: { readonly limit: number }): Promise<WebSessionView[]> {
      assertAdmin(principal);
      const sessions = await store.read((repos) => repos.webSessions.listOpen(clock(), page.limit));
      return sessions.map(({ csrfHash: _hash, ...view }) => view);
    },

    /** Ends someone's session at once: their next call with its cookie is refused. */
    async revoke(principal: Principal, sessionId: string): Promise<{ readonly revoked: true }> {
      assertAdmin(principal);
      const now = clock();
      const ended = await commitAudited(store, now, async (repos, record) => {
        const session = await repos.webSessions.endById(sessionId, now, `revoked by ${principal.id}`);
        if (session) {
          record({
            actor: principal.id,
            action: "session.revoked",
            subjectType: "session",
            subjectId: session.id,
            data: { principalId: session.principalId },
          });
        }
        return session;
      });
      if (!ended) throw new NotFoundError("no open session has this id");
      return { revoked: true };
    },
  };
}

export type WebSessionService = ReturnType<typeof createWebSessionService>;
