import {
  ACCESS_REPORT_MAX_READ_TIMES,
  type AccessEnding,
  type AccessKind,
  type AccessReportRow,
  type TypedAuditEvent,
} from "@leasehold/domain";

/*
 * The access report as a fold over the audit trail, oldest event first: one row per grant whose life
 * (created → ended) overlaps the range, as of the range's end. Memory stays bounded by what is live:
 * a request is forgotten once it is decided, a grant once it ended before the range.
 */

export type AccessFilter = {
  readonly from: Date;
  readonly to: Date;
  readonly principalId?: string | undefined;
  readonly targetId?: string | undefined;
  readonly kind?: AccessKind | undefined;
};

type Asked = {
  holder: string;
  targetId: string;
  requestedAt: Date;
  ticket: string | null;
  reason: string;
  breakGlass: boolean;
  approvedBy: string[];
  byPolicy: boolean;
};

type Building = {
  -readonly [K in keyof AccessReportRow]: AccessReportRow[K];
} & { readTimes: string[] };

const iso = (at: Date) => at.toISOString();

function kindOf(asked: Asked | undefined, lease: boolean): AccessKind {
  if (lease || !asked) return "lease";
  if (asked.breakGlass) return "break-glass";
  return asked.byPolicy ? "auto-approved" : "request";
}

/**
 * A new fold over `filter`'s range, keeping at most `limit` rows (the oldest grants); `add` the
 * trail's events in order, then read `result`. A grant that ended before the range frees its place,
 * so a truncated report may hold fewer than `limit` rows.
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: one switch over the actions a grant's history is made of.
export function accessFold(filter: AccessFilter, limit: number) {
  const asked = new Map<string, Asked>();
  const grants = new Map<string, Building>();
  const byRequest = new Map<string, Building>();
  let overflow = false;

  const wanted = (row: Building) =>
    (!filter.principalId || row.holder === filter.principalId) &&
    (!filter.targetId || row.targetId === filter.targetId) &&
    (!filter.kind || row.kind === filter.kind);

  const end = (row: Building, ending: AccessEnding, at: Date) => {
    row.ending = ending;
    row.endedAt = iso(at);
    // Ended before the range: never part of the report.
    if (at < filter.from) {
      grants.delete(row.grantId);
      if (row.requestId) byRequest.delete(row.requestId);
    }
  };

  function created(event: Extract<TypedAuditEvent, { action: "grant.created" }>) {
    const lease = "lease" in event.data;
    const requestId = "requestId" in event.data ? event.data.requestId : null;
    const request = requestId ? asked.get(requestId) : undefined;
    if (requestId) asked.delete(requestId);
    const row: Building = {
      grantId: event.subjectId,
      requestId,
      // A lease is held by the workload that leased it (the event's actor).
      holder: request?.holder ?? event.actor,
      targetId: event.data.targetId,
      kind: kindOf(request, lease),
      requestedAt: iso(request?.requestedAt ?? event.at),
      approvedBy: request?.approvedBy ?? [],
      ticket: request?.ticket ?? null,
      reason: request?.reason ?? null,
      issuedAt: null,
      expiresAt: null,
      endedAt: null,
      ending: "issuing",
      revokedBy: null,
      breakGlassReview: null,
      credentialReads: { count: 0, times: [] },
      readTimes: [],
    };
    if (!wanted(row)) return;
    if (grants.size >= limit) {
      overflow = true;
      return;
    }
    grants.set(row.grantId, row);
    if (requestId && row.kind === "break-glass") byRequest.set(requestId, row);
  }

  function onRequest(event: TypedAuditEvent) {
    switch (event.action) {
      case "request.created":
      case "request.break_glass":
        asked.set(event.subjectId, {
          holder: event.actor,
          targetId: event.data.targetId,
          requestedAt: event.at,
          ticket: event.data.ticket,
          reason: event.data.reason,
          breakGlass: event.action === "request.break_glass",
          approvedBy: [],
          byPolicy: false,
        });
        return;
      case "request.approved": {
        const request = asked.get(event.subjectId);
        if (!request) return;
        const byPolicy = event.data.approvers.length === 0 && event.data.policies.length > 0;
        request.byPolicy = byPolicy;
        request.approvedBy = byPolicy
          ? event.data.policies.map((id) => `policy:${id}`)
          : [...event.data.approvers];
        return;
      }
      case "request.denied":
      case "request.cancelled":
      case "request.expired":
        asked.delete(event.subjectId);
        return;
      case "request.break_glass_reviewed": {
        const row = byRequest.get(event.subjectId);
        if (row) row.breakGlassReview = { verdict: event.data.verdict, by: event.actor, at: iso(event.at) };
        return;
      }
      default:
        return;
    }
  }

  function onGrant(event: TypedAuditEvent, row: Building) {
    switch (event.action) {
      case "grant.issued":
        row.issuedAt ??= iso(event.at);
        row.expiresAt = event.data.expiresAt;
        if (row.ending === "issuing") row.ending = "active";
        return;
      case "grant.extended":
        row.expiresAt = event.data.expiresAt;
        return;
      case "grant.credentials_read":
        row.credentialReads = { count: row.credentialReads.count + 1, times: row.readTimes };
        if (row.readTimes.length < ACCESS_REPORT_MAX_READ_TIMES) row.readTimes.push(iso(event.at));
        return;
      case "grant.revoke_requested":
        row.revokedBy = event.actor;
        row.ending = "revoking";
        return;
      case "grant.revoked":
        end(row, "revoked", event.at);
        return;
      case "grant.expired":
        end(row, "expired", event.at);
        return;
      case "grant.issue_failed":
        end(row, "failed", event.at);
        return;
      default:
        return;
    }
  }

  return {
    /** The next event of the trail (read with `readAuditEvent`); events after the range are ignored. */
    add(event: TypedAuditEvent): void {
      if (event.at > filter.to) return;
      if (event.action === "grant.created") created(event);
      else if (event.subjectType === "request") onRequest(event);
      else {
        const row = event.subjectType === "grant" ? grants.get(event.subjectId) : undefined;
        if (row) onGrant(event, row);
      }
    },

    /** The rows, oldest grant first; `truncated` when more grants matched than `limit`. */
    result(): { rows: AccessReportRow[]; truncated: boolean } {
      const rows = [...grants.values()].map(({ readTimes: _times, ...row }) => row);
      return { rows, truncated: overflow };
    },
  };
}
