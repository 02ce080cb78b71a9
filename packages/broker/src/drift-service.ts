import type { GrantOwnership, Store } from "@leasehold/db";
import { type AuditData, type AuditEvent, isGrantEnded, SYSTEM_ACTOR, type Target } from "@leasehold/domain";
import { type BackendLeftover, type DriftScanner, grantIdPrefix } from "@leasehold/providers";
import { commitAudited } from "./audited-change.js";
import type { BrokerDeps } from "./broker-deps.js";
import { describeFailure } from "./failures.js";

export type DriftOptions = {
  /** The release margin of the reconciliation sweep (see ReconcileOptions.releaseAfterSeconds). */
  readonly releaseAfterSeconds: number;
};

export type DriftReport = {
  /** Backends listed (targets sharing one are listed once). */
  scanned: number;
  /** Backends that could not be listed (down, refused): reported, and tried again next time. */
  listFailures: number;
  /** Leftovers found that no grant owns. */
  unowned: number;
  /** Of those, removed (each with an audit event and a log line). */
  corrected: number;
  /** Of those, whose removal failed: tried again next time. */
  removeFailures: number;
};

/**
 * Whether a grant still owns what its provider created for it. A grant owns its backend objects
 * (every attempt's) while it is not ended (issuing, mid-attempt included; active; revoking; revocation
 * debt), and after it ended for as long as its provider clean-up may still be pending: until it is
 * released, and at most until the latest moment any of its credentials could still work (its
 * deadline, or its end plus its duration for attempts that were never recorded) plus the release
 * margin. Past that, or once released, nothing it created is needed any more.
 */
export function grantOwnsLeftovers(grant: GrantOwnership, now: Date, releaseAfterSeconds: number): boolean {
  if (!isGrantEnded(grant.state)) return true;
  if (grant.releasedAt !== null) return false;
  const ended = (grant.endedAt ?? grant.createdAt).getTime() + grant.durationSeconds * 1000;
  const lastUse = Math.max(grant.expiresAt?.getTime() ?? 0, ended);
  return now.getTime() < lastUse + releaseAfterSeconds * 1000;
}

const prefixOf = (leftover: BackendLeftover) =>
  "id" in leftover.grant ? grantIdPrefix(leftover.grant.id) : leftover.grant.idPrefix;

const matches = (leftover: BackendLeftover, grant: GrantOwnership) =>
  "id" in leftover.grant
    ? grant.id === leftover.grant.id
    : grantIdPrefix(grant.id) === leftover.grant.idPrefix;

/**
 * Records a removal as `drift.corrected`, unless it is recorded already. Every worker scans, so
 * another may have found the same leftover and removed it too (removal is idempotent): whoever
 * records first says so, and the others find that record among the events since their listing began.
 * The lock orders two recorders of one leftover, so the second reads the first's committed event.
 */
function recordCorrection(
  store: Store,
  at: Date,
  input: {
    target: Target;
    leftover: BackendLeftover;
    data: Omit<AuditData<"drift.corrected">, "backend">;
    listedAfterSeq: number;
  },
): Promise<boolean> {
  const { target, leftover } = input;
  return commitAudited(store, at, async (repos, record) => {
    await repos.grants.lockScope(`drift:${leftover.kind}:${leftover.name}`);
    const since = await repos.audit.list({
      afterSeq: input.listedAfterSeq,
      subjectId: target.id,
      limit: 10_000,
    });
    const recorded = (e: AuditEvent) =>
      e.action === "drift.corrected" && e.data.removed === leftover.name && e.data.kind === leftover.kind;
    if (since.some(recorded)) return false;
    record({
      actor: SYSTEM_ACTOR.drift,
      action: "drift.corrected",
      subjectType: "drift",
      subjectId: target.id,
      data: { ...input.data, backend: target.kind },
    });
    return true;
  });
}

type Deps = Pick<BrokerDeps, "store" | "targets" | "providers" | "clock" | "log"> & {
  readonly options: DriftOptions;
};

/**
 * The drift reconciliation: compares what the backends hold with what the database says, and removes
 * what no grant owns (see grantOwnsLeftovers): Leasehold-named SQL roles, per-grant IAM deny
 * policies, Vault child tokens (with their leases). Each backend is listed first and the database read
 * after, so a leftover seen in the listing whose grant was being created is never missed: a grant's
 * row is committed before anything is created for it. Each removal is a backend call followed by its
 * own audit transaction (invariant 8). A backend that cannot be listed is reported and tried next time.
 */
export function createDriftService(deps: Deps) {
  const { store, targets, providers, clock, log, options } = deps;

  const scannerOf = (target: Target): DriftScanner | undefined => {
    try {
      return providers.get(target.kind).drift;
    } catch {
      return undefined;
    }
  };

  const correct = async (
    target: Target,
    scanner: DriftScanner,
    report: DriftReport,
    signal?: AbortSignal,
  ) => {
    // Read before listing: a correction recorded after this was made while this scan was under way.
    const listedAfterSeq = await store.read((repos) => repos.audit.latestSeq());
    let leftovers: readonly BackendLeftover[];
    try {
      leftovers = await scanner.list({ target, signal });
    } catch (error) {
      report.listFailures += 1;
      log.warn(
        { targetId: target.id, error: describeFailure(error) },
        "drift scan could not list; retried next time",
      );
      return;
    }
    if (leftovers.length === 0) return;
    const grants = await store.read((repos) =>
      repos.grants.ownershipByIdPrefix([...new Set(leftovers.map(prefixOf))]),
    );
    const now = clock();
    for (const leftover of leftovers) {
      if (signal?.aborted) return;
      const owners = grants.filter((grant) => matches(leftover, grant));
      if (owners.some((grant) => grantOwnsLeftovers(grant, now, options.releaseAfterSeconds))) continue;
      report.unowned += 1;
      const grantId = owners[0]?.id ?? ("id" in leftover.grant ? leftover.grant.id : null);
      const reason = owners.length === 0 ? ("unknown-grant" as const) : ("grant-ended" as const);
      const fields = { targetId: target.id, kind: leftover.kind, removed: leftover.name, grantId, reason };
      try {
        await scanner.remove({ target, leftover, signal });
      } catch (error) {
        report.removeFailures += 1;
        log.warn({ ...fields, error: describeFailure(error) }, "drift correction failed; retried next time");
        continue;
      }
      const recorded = await recordCorrection(store, clock(), {
        target,
        leftover,
        data: fields,
        listedAfterSeq,
      });
      if (!recorded) continue;
      report.corrected += 1;
      log.info(fields, "drift corrected: removed what no grant owns");
    }
  };

  return {
    async run(signal?: AbortSignal): Promise<DriftReport> {
      const report: DriftReport = {
        scanned: 0,
        listFailures: 0,
        unowned: 0,
        corrected: 0,
        removeFailures: 0,
      };
      const scopes = new Set<string>();
      for (const target of targets.list()) {
        if (signal?.aborted) break;
        const scanner = scannerOf(target);
        if (scanner === undefined) continue;
        const scope = scanner.scope(target);
        if (scopes.has(scope)) continue;
        scopes.add(scope);
        report.scanned += 1;
        await correct(target, scanner, report, signal);
      }
      if (report.unowned > 0 || report.listFailures > 0)
        log.info({ ...report }, "drift reconciliation acted");
      return report;
    },
  };
}

export type DriftService = ReturnType<typeof createDriftService>;
