import type { RotationRun } from "@leasehold/db";
import { ForbiddenError, type Principal } from "@leasehold/domain";
import { mayReadAudit } from "./policy-checks.js";
import type { RotationDeps, RotationSettings } from "./rotation-service.js";

type RotationKind = "awsSecretsManager" | "vaultKv" | "vaultAppRole";

const kindOf = (secret: RotationSettings["secret"]): RotationKind =>
  "awsSecretsManager" in secret ? "awsSecretsManager" : "vaultKv" in secret ? "vaultKv" : "vaultAppRole";

/** A configured rotation as admins see it: what it rotates, when, and how its last run went. */
export type RotationSummary = {
  readonly id: string;
  /**
   * Where the secret lives: `awsSecretsManager` or `vaultKv`, as leasehold.yaml names it, or
   * `vaultAppRole` (Leasehold's own Vault secret id, stored in its database).
   */
  readonly kind: RotationKind;
  readonly schedule: { readonly cron: string; readonly jitterSeconds: number };
  readonly targetDescription: string;
  readonly lastRun: RotationRun | null;
};

/** The configured rotations, each with its latest run; admins only (those who may read rotation runs). */
export async function listRotations(
  deps: Pick<RotationDeps, "store" | "policy" | "clock" | "setup">,
  principal: Principal,
): Promise<RotationSummary[]> {
  if (!mayReadAudit(deps, principal)) throw new ForbiddenError("only admins may read rotations");
  const rotations = [...(deps.setup?.rotations.values() ?? [])].map((rotation) => rotation.config);
  const lastRuns = await deps.store.read((repos) =>
    Promise.all(rotations.map((rotation) => repos.rotations.list(rotation.id, 1))),
  );
  return rotations.map((rotation, i) => ({
    id: rotation.id,
    kind: kindOf(rotation.secret),
    schedule: { cron: rotation.schedule.cron, jitterSeconds: rotation.schedule.jitterSeconds },
    targetDescription: rotation.description,
    lastRun: lastRuns[i]?.[0] ?? null,
  }));
}
