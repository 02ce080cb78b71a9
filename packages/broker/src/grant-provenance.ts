import type { Repositories, Store } from "@leasehold/db";
import {
  type AuditEvent,
  ConflictError,
  type Grant,
  readAuditEvent,
  samePrincipalId,
} from "@leasehold/domain";
import type { Logger } from "./broker-deps.js";

/**
 * Whether the grant row says what the audit trail says it is: the worker issues only a grant whose
 * creation (and, for a person, whose request and its approval, or its break-glass) is in the trail as authentic events,
 * matching the row's holder, target, request and duration. A database writer without the master key
 * can insert or change a grant row, but cannot write authentic events; such a grant is never issued.
 * `duration: false` skips the duration (an extension has moved it since the creation); `firstIssue`
 * also requires that the trail knows of nothing after the creation (no issue, no end).
 */
export async function assertGrantProvenance(
  repos: Pick<Repositories, "audit">,
  grant: Grant,
  options: ProvenanceOptions = FIRST_ISSUE,
): Promise<void> {
  assertProvenance(await readGrantTrail(repos, grant), grant, options);
}

type ProvenanceOptions = { readonly duration: boolean; readonly firstIssue: boolean };

const FIRST_ISSUE: ProvenanceOptions = { duration: true, firstIssue: true };

/** The authentic audit events a grant's provenance is judged on: its own, and its request's (none for a lease). */
export type GrantTrail = { readonly grant: readonly AuditEvent[]; readonly request: readonly AuditEvent[] };

/** Reads a grant's trail; the two reads go out together. */
export async function readGrantTrail(repos: Pick<Repositories, "audit">, grant: Grant): Promise<GrantTrail> {
  const [own, request] = await Promise.all([
    repos.audit.authenticFor(grant.id),
    grant.requestId === null ? [] : repos.audit.authenticFor(grant.requestId),
  ]);
  return { grant: own, request };
}

/** `assertGrantProvenance` on a trail read already (`readGrantTrail`). */
export function assertProvenance(
  trail: GrantTrail,
  grant: Grant,
  options: ProvenanceOptions = FIRST_ISSUE,
): void {
  const own = trail.grant.map(readAuditEvent);
  // A row set back to an earlier state of its own (MAC and all) must not issue a grant twice.
  if (options.firstIssue && own.some((e) => e?.action !== "grant.created")) {
    throw new ConflictError(
      "the audit trail says this grant was already issued or ended; it is not issued again (its row was set back outside Leasehold)",
    );
  }
  const created = own.find((e) => e?.action === "grant.created");
  const sameDuration = (seconds: number) => !options.duration || seconds === grant.durationSeconds;
  let provenance = false;
  if (created?.action === "grant.created" && created.data.targetId === grant.targetId) {
    if (grant.requestId === null) {
      provenance =
        "lease" in created.data &&
        samePrincipalId(created.actor, grant.principalId) &&
        sameDuration(created.data.durationSeconds);
    } else if ("requestId" in created.data && created.data.requestId === grant.requestId) {
      const request = trail.request.map(readAuditEvent);
      // A break-glass is asked and approved by policy in one event; any other request needs its approval.
      const asked = request.find(
        (e) => e?.action === "request.created" || e?.action === "request.break_glass",
      );
      provenance =
        sameDuration(created.data.durationSeconds) &&
        (asked?.action === "request.created" || asked?.action === "request.break_glass") &&
        samePrincipalId(asked.actor, grant.principalId) &&
        asked.data.targetId === grant.targetId &&
        (asked.action === "request.break_glass" || request.some((e) => e?.action === "request.approved"));
    }
  }
  if (!provenance) {
    throw new ConflictError(
      "this grant's holder, target or approval is not in the audit trail; it was changed outside Leasehold",
    );
  }
}

/**
 * Refuses a grant whose row's MAC does not match it as read (db's grant-seal.ts): its holder, target,
 * request, duration, state, deadline or attempt was changed outside Leasehold, or the row was written
 * outside it. `use` says what is refused, for the message.
 */
export async function assertGrantSealed(
  repos: Pick<Repositories, "grants">,
  log: Logger,
  grant: Grant,
  use: SealedUse,
): Promise<void> {
  assertSealed(log, grant, await repos.grants.isSealed(grant), use);
}

type SealedUse = "issued" | "extended" | "delivered";

/** `assertGrantSealed` for a row whose seal was checked already (`sealed`), as a move of it reports. */
export function assertSealed(log: Logger, grant: Grant, sealed: boolean, use: SealedUse): void {
  if (sealed) return;
  log.error(
    { grantId: grant.id, use },
    "GRANT REFUSED: its row was changed outside Leasehold (MAC mismatch)",
  );
  throw new ConflictError(
    `this grant's row was changed outside Leasehold (its holder, target, request, duration or state does not match its MAC); it is not ${use}`,
  );
}

/** `assertGrantSealed` outside a transaction. */
export const assertStoredGrantSealed = (
  { store, log }: { store: Pick<Store, "read">; log: Logger },
  grant: Grant,
  use: "issued" | "extended",
) => store.read((repos) => assertGrantSealed(repos, log, grant, use));
