import {
  ConflictError,
  canApplyGrantEvent,
  type ExtendGrantInput,
  ForbiddenError,
  type Grant,
  grantTransition,
  InvalidRequestError,
  type LeaseRule,
  NotFoundError,
  type Principal,
  type RenewLeaseInput,
  resolveExtension,
  resolveRenewal,
  type Target,
} from "@leasehold/domain";
import { approvalContextFor } from "./approval-context.js";
import { commitGrantStep, type GrantStep } from "./audited-change.js";
import type { BrokerDeps } from "./broker-deps.js";
import { grantBinding } from "./credential-cipher.js";
import { authorizeGrantUse } from "./grant-access.js";
import { assertGrantProvenance, assertSealed, assertStoredGrantSealed } from "./grant-provenance.js";
import { decideExtend, refusal } from "./policy-checks.js";

type Deps = Pick<
  BrokerDeps,
  "store" | "targets" | "policy" | "providers" | "queues" | "cipher" | "clock" | "log"
>;

/**
 * The caller's grant, still extendable by what is asked (the Extend policies decide); for a lease, also
 * the lease rule that still allows it.
 */
async function holderGrant(
  deps: Deps,
  principal: Principal,
  use: "extend" | "renew",
  asked: ExtendGrantInput | RenewLeaseInput,
): Promise<{ grant: Grant; target: Target; leaseRule: LeaseRule | null }> {
  const grant = await deps.store.read((repos) => repos.grants.findById(asked.grantId));
  if (!grant) throw new NotFoundError("there is no such grant");
  const leaseRule = authorizeGrantUse(deps, principal, grant, {
    others: null,
    otherwise: () => new ForbiddenError(`only the grant's holder may ${use} it`),
  });
  if (!canApplyGrantEvent(grant.state, "extended")) throw new ConflictError(`this grant is ${grant.state}`);
  const target = deps.targets.get(grant.targetId);
  if (!target) throw new ConflictError(`target ${grant.targetId} is no longer configured`);
  const bySeconds = "extendBySeconds" in asked ? asked.extendBySeconds : asked.incrementSeconds;
  const decision = decideExtend(deps, principal, target, bySeconds);
  if (!decision.allowed) throw refusal(`you may not ${use} ${target.id} now`, decision);
  return { grant, target, leaseRule };
}

/**
 * Later deadlines for active grants: a person extends their access within the target's maximum, a
 * workload renews its lease within its lease rule. Where the backend can renew a credential in place
 * (a Vault lease, VALID UNTIL) it does; where it cannot (an STS session) a new credential is issued
 * that ends at the new deadline and replaces the stored one, while the old one runs out on its own.
 * The provider is called outside any transaction; only the attempt that started may commit.
 */
export function createGrantExtendService(deps: Deps) {
  const { store, providers, queues, cipher, clock, log } = deps;

  /** Moves the grant's deadline to `deadline`, renewing in place or re-issuing; audited as `grant.extended`. */
  const moveDeadline = async (principal: Principal, current: Grant, target: Target, deadline: Date) => {
    // A new credential goes only to the holder the audit trail knows, for the target it knows, and
    // only for a row as Leasehold wrote it.
    await assertStoredGrantSealed({ store, log }, current, "extended");
    await store.read((repos) =>
      assertGrantProvenance(repos, current, { duration: false, firstIssue: false }),
    );
    const provider = providers.get(target.kind);
    const now = clock();
    let changes: GrantStep["changes"];
    let attempt = current.issueAttempts;
    if (provider.renew) {
      const renewed = await provider.renew({ grant: current, target, expiresAt: deadline });
      changes = { expiresAt: renewed.expiresAt };
    } else {
      const begun = await store.transaction((repos) =>
        repos.grants.beginIssueAttempt(current.id, now, grantTransition("extended").from),
      );
      if (!begun) throw new ConflictError("this grant ended before it could be extended");
      const { grant, sealed } = begun;
      assertSealed(log, grant, sealed, "extended"); // as the count found the row, before its re-seal
      attempt = grant.issueAttempts;
      const issued = await provider.issue({
        // Rounded down: the new credential never outlives the deadline policy allowed.
        grant: { ...grant, durationSeconds: Math.floor((deadline.getTime() - now.getTime()) / 1000) },
        target,
        approval: await approvalContextFor(store, grant),
        checkpoint: (reference) =>
          store.transaction((r) => r.grants.updateReference(grant.id, reference, clock())),
      });
      changes = {
        expiresAt: issued.expiresAt,
        providerRef: { ...issued.reference },
        credential: cipher.seal(grantBinding(grant), issued.secret),
      };
    }
    const expiresAt = changes.expiresAt ?? deadline;
    const extended = await commitGrantStep(store, current.id, {
      event: "extended",
      at: clock(),
      changes: {
        ...changes,
        // The planned life, in whole seconds; the next extension adds to it.
        durationSeconds: Math.round(
          (Math.min(expiresAt.getTime(), deadline.getTime()) - (current.issuedAt ?? now).getTime()) / 1000,
        ),
      },
      issueAttempts: attempt,
      actor: principal.id,
      data: {
        previousExpiresAt: current.expiresAt?.toISOString() ?? null,
        expiresAt: expiresAt.toISOString(),
        renewedInPlace: provider.renew !== undefined,
        attempt,
      },
    });
    if (!extended) throw new ConflictError("this grant changed while it was being extended; try again");
    await queues.expireAt(current.id, expiresAt, clock()).catch((error: unknown) => {
      log.warn(
        { grantId: current.id, err: String(error) },
        "could not move the expiry; the sweep will expire it",
      );
    });
    log.info({ grantId: current.id, expiresAt: expiresAt.toISOString() }, "grant extended");
    return extended;
  };

  return {
    /** A person extends their access, within the target's maximum lifetime; a lease is renewed instead. */
    async extend(principal: Principal, input: ExtendGrantInput): Promise<Grant> {
      const { grant, target, leaseRule } = await holderGrant(deps, principal, "extend", input);
      if (leaseRule) {
        throw new InvalidRequestError(
          "this grant is a lease: renew it with leases.renew, within its lease rule (grants.extend extends only grants from an access request)",
        );
      }
      const { deadline } = resolveExtension(target, grant, input.extendBySeconds, clock());
      return moveDeadline(principal, grant, target, deadline);
    },

    /** A workload renews its lease, within the lease rule that still matches it. */
    async renew(principal: Principal, input: RenewLeaseInput): Promise<Grant> {
      const { grant, target, leaseRule } = await holderGrant(deps, principal, "renew", input);
      if (!leaseRule) {
        throw new InvalidRequestError(
          "this grant came from an access request: extend it with grants.extend (leases.renew renews only leases)",
        );
      }
      const deadline = resolveRenewal(target, leaseRule, grant, input.incrementSeconds, clock());
      return moveDeadline(principal, grant, target, deadline);
    },
  };
}

export type GrantExtendService = ReturnType<typeof createGrantExtendService>;
