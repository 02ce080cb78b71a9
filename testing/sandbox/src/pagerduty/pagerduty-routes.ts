import type { PagerDutyIncidentRecord, PagerDutyIncidentStatus } from "./pagerduty-sandbox-types.js";
import type { OnCallShift, PagerDutyState } from "./pagerduty-state.js";
import {
  arrayParam,
  booleanParam,
  dateParam,
  invalidInput,
  notFound,
  paged,
  pageParams,
  type Query,
  reference,
} from "./pagerduty-wire.js";

/** The answers to `GET /oncalls`, `/users`, `/incidents` and `/incidents/{id}` (contracts wave2 §7). */

type Context = { state: PagerDutyState; apiUrl: string; query: Query };
type Body = Record<string, unknown>;

const DAY_MS = 86_400_000;
const INCLUDES = new Set(["escalation_policies", "users", "schedules"]);

function includes(query: Query): Set<string> {
  const values = arrayParam(query, "include") ?? [];
  for (const value of values) if (!INCLUDES.has(value)) throw invalidInput(`include[] ${value} is not valid`);
  return new Set(values);
}

const userObject = (ctx: Context, id: string) => {
  const user = ctx.state.users.get(id);
  if (user === undefined) return reference(ctx.apiUrl, "user", id, id);
  return {
    ...reference(ctx.apiUrl, "user", id, user.name),
    type: "user",
    name: user.name,
    email: user.email,
  };
};

const userRef = (ctx: Context, id: string) =>
  reference(ctx.apiUrl, "user", id, ctx.state.users.get(id)?.name ?? id);
const policyRef = (ctx: Context, id: string) =>
  reference(ctx.apiUrl, "escalation_policy", id, ctx.state.policies.get(id)?.name ?? id);

/** Whether a shift overlaps [since, until]; open ends reach forever. */
const overlaps = (shift: OnCallShift, since: Date, until: Date) =>
  (shift.start === null || shift.start <= until) && (shift.end === null || shift.end > since);

/** `earliest=true`: the earliest shift per user, policy and level. */
function earliestOnly(shifts: readonly OnCallShift[]): OnCallShift[] {
  const kept = new Map<string, OnCallShift>();
  for (const shift of shifts) {
    const key = `${shift.userId}\u0000${shift.escalationPolicyId}\u0000${shift.level}`;
    const held = kept.get(key);
    if (held === undefined || (shift.start?.getTime() ?? -1) < (held.start?.getTime() ?? -1))
      kept.set(key, shift);
  }
  return [...kept.values()];
}

export function listOnCalls(ctx: Context): Body {
  const { query, state } = ctx;
  const page = pageParams(query);
  const expand = includes(query);
  const now = state.clock();
  const since = dateParam(query, "since") ?? now;
  const until = dateParam(query, "until") ?? now;
  if (until < since) throw invalidInput("until must not be before since");
  if (until.getTime() - now.getTime() > 90 * DAY_MS) throw invalidInput("until is more than 90 days away");
  const userIds = arrayParam(query, "user_ids");
  const policyIds = arrayParam(query, "escalation_policy_ids");
  // A "null" entry selects direct user targets of a policy (no schedule).
  const scheduleIds = arrayParam(query, "schedule_ids");
  let shifts = state.oncalls.filter(
    (shift) =>
      overlaps(shift, since, until) &&
      (userIds === undefined || userIds.includes(shift.userId)) &&
      (policyIds === undefined || policyIds.includes(shift.escalationPolicyId)) &&
      (scheduleIds === undefined || scheduleIds.includes(shift.scheduleId ?? "null")),
  );
  if (booleanParam(query, "earliest")) shifts = earliestOnly(shifts);
  shifts.sort(
    (a, b) =>
      a.escalationPolicyId.localeCompare(b.escalationPolicyId) ||
      a.level - b.level ||
      (a.start?.getTime() ?? 0) - (b.start?.getTime() ?? 0),
  );
  const oncalls = shifts.map((shift) => ({
    user: expand.has("users") ? userObject(ctx, shift.userId) : userRef(ctx, shift.userId),
    schedule:
      shift.scheduleId === null
        ? null
        : reference(
            ctx.apiUrl,
            "schedule",
            shift.scheduleId,
            state.schedules.get(shift.scheduleId)?.name ?? shift.scheduleId,
          ),
    escalation_policy: policyRef(ctx, shift.escalationPolicyId),
    escalation_level: shift.level,
    start: shift.start?.toISOString() ?? null,
    end: shift.end?.toISOString() ?? null,
  }));
  return paged("oncalls", oncalls, page);
}

/** `GET /users?query=`: users whose name or email contains the query, ignoring case. */
export function listUsers(ctx: Context): Body {
  const page = pageParams(ctx.query);
  const needle = (ctx.query.get("query") ?? "").toLowerCase();
  const users = [...ctx.state.users.values()]
    .filter((user) => user.name.toLowerCase().includes(needle) || user.email.toLowerCase().includes(needle))
    .map((user) => userObject(ctx, user.id));
  return paged("users", users, page);
}

function renderIncident(ctx: Context, incident: PagerDutyIncidentRecord): Body {
  const service = ctx.state.services.get(incident.serviceId);
  const policyId = service?.escalationPolicyId ?? "";
  return {
    id: incident.id,
    type: "incident",
    summary: `[#${incident.number}] ${incident.title}`,
    self: `${ctx.apiUrl}/incidents/${incident.id}`,
    html_url: `https://sandbox.pagerduty.com/incidents/${incident.id}`,
    incident_number: incident.number,
    title: incident.title,
    status: incident.status,
    urgency: "high",
    incident_key: null,
    created_at: incident.createdAt.toISOString(),
    updated_at: incident.updatedAt.toISOString(),
    last_status_change_at: incident.updatedAt.toISOString(),
    resolved_at: incident.resolvedAt?.toISOString() ?? null,
    service: reference(ctx.apiUrl, "service", incident.serviceId, service?.name ?? incident.serviceId),
    escalation_policy: policyRef(ctx, policyId),
    assignments: incident.assigneeIds.map((id) => ({
      at: incident.updatedAt.toISOString(),
      assignee: userRef(ctx, id),
    })),
    acknowledgements: [],
    teams: [],
    priority: null,
  };
}

const STATUSES = new Set<string>(["triggered", "acknowledged", "resolved"]);

/** The creation window: `date_range=all`, else since/until (default the last month, at most 6 months). */
function creationWindow(ctx: Context): { since: Date; until: Date } | undefined {
  const dateRange = ctx.query.get("date_range");
  if (dateRange !== null) {
    if (dateRange !== "all") throw invalidInput("date_range must be all");
    return undefined;
  }
  const now = ctx.state.clock();
  const until = dateParam(ctx.query, "until") ?? now;
  const since = dateParam(ctx.query, "since") ?? new Date(until.getTime() - 30 * DAY_MS);
  if (until < since) throw invalidInput("until must not be before since");
  if (until.getTime() - since.getTime() > 183 * DAY_MS) throw invalidInput("The date range exceeds 6 months");
  return { since, until };
}

export function listIncidents(ctx: Context): Body {
  const page = pageParams(ctx.query);
  const statuses = arrayParam(ctx.query, "statuses");
  for (const status of statuses ?? []) {
    if (!STATUSES.has(status)) throw invalidInput(`statuses[] ${status} is not valid`);
  }
  const serviceIds = arrayParam(ctx.query, "service_ids");
  const userIds = arrayParam(ctx.query, "user_ids");
  const window = creationWindow(ctx);
  const incidents = [...ctx.state.incidents.values()]
    .filter(
      (incident) =>
        (statuses === undefined || statuses.includes(incident.status as PagerDutyIncidentStatus)) &&
        (serviceIds === undefined || serviceIds.includes(incident.serviceId)) &&
        // Assigned users only ever match open incidents: resolved ones have no assignments.
        (userIds === undefined || incident.assigneeIds.some((id) => userIds.includes(id))) &&
        (window === undefined || (incident.createdAt >= window.since && incident.createdAt <= window.until)),
    )
    .sort((a, b) => a.number - b.number)
    .map((incident) => renderIncident(ctx, incident));
  return paged("incidents", incidents, page);
}

export function getIncident(ctx: Context, id: string): Body {
  const incident = ctx.state.incidents.get(id);
  if (incident === undefined) throw notFound();
  return { incident: renderIncident(ctx, incident) };
}
