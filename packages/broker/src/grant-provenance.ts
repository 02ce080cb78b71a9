import type { Repositories } from "@leasehold/db";
import { ConflictError, type Grant, readAuditEvent, samePrincipalId } from "@leasehold/domain";

/**
 * Whether the grant row says what the audit trail says it is: the worker issues only a grant whose
 * creation (and, for a person, whose request and its approval) is in the trail as authentic events,
 * matching the row's holder, target, request and duration. A database writer without the master key
 * can insert or change a grant row, but cannot write authentic events; such a grant is never issued.
 * `duration: false` skips the duration (an extension has moved it since the creation).
 */
export async function assertGrantProvenance(
  repos: Pick<Repositories, "audit">,
  grant: Grant,
  options: { duration: boolean } = { duration: true },
): Promise<void> {
  const events = (id: string) => repos.audit.authenticFor(id).then((all) => all.map(readAuditEvent));
  const created = (await events(grant.id)).find((e) => e?.action === "grant.created");
  const sameDuration = (seconds: number) => !options.duration || seconds === grant.durationSeconds;
  let provenance = false;
  if (created?.action === "grant.created" && created.data.targetId === grant.targetId) {
    if (grant.requestId === null) {
      provenance =
        "lease" in created.data &&
        samePrincipalId(created.actor, grant.principalId) &&
        sameDuration(created.data.durationSeconds);
    } else if ("requestId" in created.data && created.data.requestId === grant.requestId) {
      const request = await events(grant.requestId);
      const asked = request.find((e) => e?.action === "request.created");
      provenance =
        sameDuration(created.data.durationSeconds) &&
        asked?.action === "request.created" &&
        samePrincipalId(asked.actor, grant.principalId) &&
        asked.data.targetId === grant.targetId &&
        request.some((e) => e?.action === "request.approved");
    }
  }
  if (!provenance) {
    throw new ConflictError(
      "this grant's holder, target or approval is not in the audit trail; it was changed outside Leasehold",
    );
  }
}
