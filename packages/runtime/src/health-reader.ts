import { type RotationSettings, rotationPeriodSeconds } from "@leasehold/broker";
import type { LeaseholdConfig } from "@leasehold/config";
import { type Database, readHealthCounts } from "@leasehold/db";
import type { Clock, Target } from "@leasehold/domain";
import type { HealthSnapshot } from "@leasehold/metrics";
import { asAwsRoleTarget } from "@leasehold/providers";
import type { QueueProducer } from "@leasehold/queue";

/** A grant whose target left leasehold.yaml: still counted, under one bounded label. */
const UNKNOWN = "unknown";

/**
 * The metrics' snapshot: two database queries and one job count per queue. Labels come from
 * leasehold.yaml (target kinds, role ARNs, rotation ids), never from the rows themselves, so their
 * number is bounded by the configuration.
 */
export function healthReader(deps: {
  readonly db: Database;
  readonly producer: Pick<QueueProducer, "depths">;
  readonly config: LeaseholdConfig;
  /** The rotations set up: leasehold.yaml's and Leasehold's own Vault secret id's. */
  readonly rotations: readonly Pick<RotationSettings, "id" | "schedule">[];
  readonly clock: Clock;
}): () => Promise<HealthSnapshot> {
  const targets = new Map(deps.config.targets.map((t) => [t.id, t as Target]));
  const rotationIds = deps.rotations.map((r) => r.id);
  const startedAt = deps.clock();
  const intervals = new Map(
    deps.rotations.map((r) => [r.id, rotationPeriodSeconds(r.schedule.cron, startedAt)]),
  );
  return async () => {
    const [counts, queueDepths] = await Promise.all([
      readHealthCounts(deps.db, rotationIds),
      deps.producer.depths(),
    ]);
    const now = deps.clock().getTime();
    const grants = new Map<string, { state: string; targetKind: string; count: number }>();
    const debt = new Map<string, { backend: string; targetKind: string; count: number }>();
    for (const row of counts.grants) {
      const target = targets.get(row.targetId);
      const targetKind = target?.kind ?? UNKNOWN;
      add(grants, { state: row.state, targetKind }, `${row.state}\u0000${targetKind}`, row.count);
      if (row.state === "revocation_failed") {
        const backend = target ? backendOf(target) : UNKNOWN;
        add(debt, { backend, targetKind }, `${backend}\u0000${targetKind}`, row.count);
      }
    }
    return {
      grants: [...grants.values()],
      requests: counts.requests,
      revocationDebt: [...debt.values()],
      queueDepths,
      rotations: counts.rotations.map((r) => ({
        rotation: r.rotationId,
        lastSuccessAgeSeconds: r.lastSuccessAt ? Math.max(0, (now - r.lastSuccessAt.getTime()) / 1000) : null,
        lastRunFailed: r.latestState === "failed",
        intervalSeconds: intervals.get(r.rotationId) ?? null,
      })),
    };
  };
}

/** What still honours a grant in revocation debt: the IAM role (shared by its targets), else the target. */
const backendOf = (target: Target): string =>
  target.kind === "aws-role" ? asAwsRoleTarget(target).aws.roleArn : target.id;

function add<T extends { count: number }>(
  into: Map<string, T>,
  row: Omit<T, "count">,
  key: string,
  n: number,
) {
  const existing = into.get(key);
  if (existing) existing.count += n;
  else into.set(key, { ...row, count: n } as T);
}
