import type { Broker } from "@leasehold/broker";
import {
  accessReportInput,
  auditListInput,
  auditVerifyInput,
  breakGlassInput,
  createLeaseInput,
  createPreApprovalInput,
  extendGrantInput,
  grantIdInput,
  listPreApprovalsInput,
  listRequestsInput,
  pageInput,
  preApprovalIdInput,
  renewLeaseInput,
  requestAccessInput,
  requestIdInput,
  reviewBreakGlassInput,
  reviewInput,
  revokeGrantInput,
  rotationIdInput,
  rotationRunsInput,
  sessionIdInput,
} from "@leasehold/domain";
import { LOCAL_SLACK_MAX_MESSAGES, type LocalSlackOutbox } from "./local-slack.js";
import {
  renderAuditEvent,
  renderBreakGlass,
  renderGrant,
  renderPreApproval,
  renderRequest,
  renderRotation,
  renderRotationRun,
  renderTarget,
  renderWebSession,
} from "./render.js";
import { authedProcedure, rateLimitedProcedure, router } from "./trpc.js";

/** The use cases the API calls, each under the name of the procedure that calls it. */
export type ApiUseCases = {
  readonly targets: Pick<Broker["targets"], "list">;
  readonly requests: Pick<
    Broker["requests"],
    "create" | "get" | "list" | "cancel" | "breakGlass" | "reviewBreakGlass" | "openBreakGlass" | "history"
  >;
  readonly reviews: Pick<Broker["reviews"], "submit">;
  readonly grants: Pick<
    Broker["grants"],
    "get" | "list" | "credentials" | "extend" | "revoke" | "timeline" | "revocationDebt"
  >;
  readonly leases: Pick<Broker["leases"], "create" | "renew">;
  readonly rotations: Pick<Broker["rotations"], "dryRun" | "run" | "runs" | "list">;
  readonly audit: Pick<Broker["audit"], "list" | "verify" | "publicKey">;
  readonly preApprovals: Pick<Broker["preApprovals"], "create" | "list" | "revoke">;
  readonly reports: Pick<Broker["reports"], "access" | "standing">;
  /** `list` and `revoke` are procedures; the others are the sign-in edge's (auth/). */
  readonly sessions: Pick<
    Broker["sessions"],
    "list" | "revoke" | "start" | "find" | "end" | "holdLogin" | "takeLogin"
  >;
};

/**
 * The API. Each procedure parses its input with the shared bounded schema, calls the use case of its
 * own name (which checks authorization), and renders the result.
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: the router is one declaration of many procedures, each a few lines.
export function createAppRouter(broker: ApiUseCases, localSlack?: LocalSlackOutbox) {
  return router({
    me: authedProcedure.query(({ ctx }) => ({
      id: ctx.principal.id,
      kind: ctx.principal.kind,
      provider: ctx.principal.provider,
      groups: ctx.principal.groups,
    })),

    targets: router({
      /** The targets the caller may request. */
      list: authedProcedure.query(({ ctx }) => broker.targets.list(ctx.principal).map(renderTarget)),
    }),

    requests: router({
      create: rateLimitedProcedure("requests")
        .input(requestAccessInput)
        .mutation(async ({ ctx, input }) => {
          const created = await broker.requests.create(ctx.principal, input);
          // How approval by policy went: approved, held back by its daily limit, or provider down.
          return { ...renderRequest(created), autoApproval: created.autoApproval };
        }),
      get: authedProcedure
        .input(requestIdInput)
        .query(async ({ ctx, input }) =>
          renderRequest(await broker.requests.get(ctx.principal, input.requestId)),
        ),
      list: authedProcedure
        .input(listRequestsInput)
        .query(async ({ ctx, input }) =>
          (await broker.requests.list(ctx.principal, input)).map(renderRequest),
        ),
      cancel: authedProcedure.input(requestIdInput).mutation(async ({ ctx, input }) => {
        const request = await broker.requests.cancel(ctx.principal, input.requestId);
        return { id: request.id, state: request.state };
      }),
      /** Access without approval, for whom policy allows it; broadcast at once and reviewed afterwards. */
      breakGlass: rateLimitedProcedure("requests")
        .input(breakGlassInput)
        .mutation(async ({ ctx, input }) => {
          const { request, grant } = await broker.requests.breakGlass(ctx.principal, input);
          return { ...renderBreakGlass({ request, review: null }), grantId: grant.id };
        }),
      /** An approver marks a break-glass justified or unjustified; once, and never its requester. */
      reviewBreakGlass: authedProcedure
        .input(reviewBreakGlassInput)
        .mutation(async ({ ctx, input }) =>
          renderBreakGlass(await broker.requests.reviewBreakGlass(ctx.principal, input)),
        ),
      /** Unreviewed break-glasses the caller may review, and the caller's own that blocks their next. */
      openBreakGlass: authedProcedure.input(pageInput).query(async ({ ctx, input }) => {
        const open = await broker.requests.openBreakGlass(ctx.principal, input);
        return {
          toReview: open.toReview.map(renderBreakGlass),
          mine: open.mine && renderBreakGlass(open.mine),
        };
      }),
      /** The requester's last grants on the request's target, for whoever may see the request. */
      history: authedProcedure.input(requestIdInput).query(async ({ ctx, input }) => ({
        grants: (await broker.requests.history(ctx.principal, input.requestId)).map(renderGrant),
      })),
    }),

    reviews: router({
      /** Approve or deny a request. A final approval creates the grant and queues its issue. */
      submit: authedProcedure.input(reviewInput).mutation(async ({ ctx, input }) => {
        const result = await broker.reviews.submit(ctx.principal, input);
        return { request: renderRequest(result), grantId: result.grant?.id ?? null };
      }),
    }),

    grants: router({
      get: authedProcedure
        .input(grantIdInput)
        .query(async ({ ctx, input }) => renderGrant(await broker.grants.get(ctx.principal, input.grantId))),
      list: authedProcedure
        .input(pageInput)
        .query(async ({ ctx, input }) =>
          (await broker.grants.list(ctx.principal, input.limit)).map(renderGrant),
        ),
      /** The audit events about the grant and its request, oldest first; for whoever may see the grant. */
      timeline: authedProcedure.input(grantIdInput).query(async ({ ctx, input }) => ({
        events: (await broker.grants.timeline(ctx.principal, input.grantId)).map(renderAuditEvent),
      })),
      /** Admins: grants whose revocation gave up (their credential may still work). */
      revocationDebt: authedProcedure
        .input(pageInput)
        .query(async ({ ctx, input }) =>
          (await broker.grants.revocationDebt(ctx.principal, input)).map(renderGrant),
        ),
      /** A mutation, not a query: every read is audited, and credentials must not travel in a URL. */
      credentials: authedProcedure.input(grantIdInput).mutation(async ({ ctx, input }) => {
        const delivered = await broker.grants.credentials(ctx.principal, input.grantId);
        return {
          grantId: delivered.grantId,
          expiresAt: delivered.expiresAt.toISOString(),
          /** The credential with its `kind`: `aws-session` (accessKeyId, secretAccessKey, sessionToken, expiration) or `database` (username, password, …). */
          credential: { ...delivered.secret },
        };
      }),
      /** A new credential with a later deadline, within the target's maximum. */
      extend: authedProcedure
        .input(extendGrantInput)
        .mutation(async ({ ctx, input }) => renderGrant(await broker.grants.extend(ctx.principal, input))),
      revoke: rateLimitedProcedure("revocations")
        .input(revokeGrantInput)
        .mutation(async ({ ctx, input }) => renderGrant(await broker.grants.revoke(ctx.principal, input))),
    }),

    /** Workloads: lease a target their lease rule allows, renew it; revoke and look up through grants. */
    leases: router({
      create: rateLimitedProcedure("leases")
        .input(createLeaseInput)
        .mutation(async ({ ctx, input }) => {
          const { grant, credential } = await broker.leases.create(ctx.principal, input);
          return { grant: renderGrant(grant), credential: { ...credential.secret } };
        }),
      renew: authedProcedure
        .input(renewLeaseInput)
        .mutation(async ({ ctx, input }) => renderGrant(await broker.leases.renew(ctx.principal, input))),
    }),

    /** Admins: rotations of long-lived secrets. */
    rotations: router({
      /** The configured rotations, each with its latest run. */
      list: authedProcedure.query(async ({ ctx }) =>
        (await broker.rotations.list(ctx.principal)).map(renderRotation),
      ),
      /** Checks a rotation without changing anything. */
      dryRun: authedProcedure
        .input(rotationIdInput)
        .mutation(({ ctx, input }) => broker.rotations.dryRun(ctx.principal, input.rotationId)),
      /** Starts a run now; the worker carries it out. */
      run: authedProcedure.input(rotationIdInput).mutation(async ({ ctx, input }) => {
        const run = await broker.rotations.run(ctx.principal, input.rotationId);
        return renderRotationRun(run);
      }),
      runs: authedProcedure
        .input(rotationRunsInput)
        .query(async ({ ctx, input }) =>
          (await broker.rotations.runs(ctx.principal, input.rotationId, input.limit)).map(renderRotationRun),
        ),
    }),

    /** Approvers: windows in which a person's requests for a target are auto-approved. */
    preApprovals: router({
      // Counted with the caller's requests: each window is posted to the approvers' channel.
      create: rateLimitedProcedure("requests")
        .input(createPreApprovalInput)
        .mutation(async ({ ctx, input }) =>
          renderPreApproval(await broker.preApprovals.create(ctx.principal, input)),
        ),
      list: authedProcedure
        .input(listPreApprovalsInput)
        .query(async ({ ctx, input }) =>
          (await broker.preApprovals.list(ctx.principal, input)).map(renderPreApproval),
        ),
      revoke: authedProcedure
        .input(preApprovalIdInput)
        .mutation(async ({ ctx, input }) =>
          renderPreApproval(await broker.preApprovals.revoke(ctx.principal, input.preApprovalId)),
        ),
    }),

    audit: router({
      list: authedProcedure
        .input(auditListInput)
        .query(async ({ ctx, input }) =>
          (await broker.audit.list(ctx.principal, input)).map(renderAuditEvent),
        ),
      verify: authedProcedure
        .input(auditVerifyInput)
        .query(({ ctx, input }) => broker.audit.verify(ctx.principal, input.expectedHead)),
      /** The Ed25519 public key (SPKI PEM) and key id that audit checkpoints are signed with. */
      publicKey: authedProcedure.query(({ ctx }) => broker.audit.publicKey(ctx.principal)),
    }),

    /** Admins and auditors: access reports built from the verified audit trail (JSON; the CLI writes CSV). */
    reports: router({
      access: authedProcedure
        .input(accessReportInput)
        .query(({ ctx, input }) => broker.reports.access(ctx.principal, input)),
      standing: authedProcedure.query(({ ctx }) => broker.reports.standing(ctx.principal)),
    }),

    /** Admins: the console's open sessions, and ending one at once. */
    sessions: router({
      list: authedProcedure
        .input(pageInput)
        .query(async ({ ctx, input }) =>
          (await broker.sessions.list(ctx.principal, input)).map(renderWebSession),
        ),
      revoke: authedProcedure
        .input(sessionIdInput)
        .mutation(({ ctx, input }) => broker.sessions.revoke(ctx.principal, input.sessionId)),
    }),
    /** Local mode: what the bot sent to the Slack stand-in, newest last; elsewhere `available: false`. */
    local: router({
      slackMessages: authedProcedure.query(async () =>
        localSlack
          ? { available: true, messages: (await localSlack.messages()).slice(-LOCAL_SLACK_MAX_MESSAGES) }
          : { available: false, messages: [] },
      ),
    }),
  });
}

export type AppRouter = ReturnType<typeof createAppRouter>;
