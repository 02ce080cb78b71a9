import type { OpsgenieIncidentRecord } from "./opsgenie-sandbox-types.js";
import { findUser, type OpsgenieState } from "./opsgenie-state.js";
import { booleanParam, dateParam, notFound, pageParams, unprocessable } from "./opsgenie-wire.js";

/** The answers to the four Opsgenie endpoints the stand-in serves (contracts wave2 §8). */

type Context = { state: OpsgenieState; apiUrl: string; query: URLSearchParams };
/** `data` plus anything else beside it in the envelope (`paging`), and extra response headers. */
export type Answer = { data: unknown; extra?: Record<string, unknown>; headers?: Record<string, string> };

/**
 * `GET /v2/schedules/{identifier}/on-calls`. The docs call the selector `scheduleIdentifierType` and the
 * OAS `identifierType`: both are read, the first winning.
 */
export function onCalls(ctx: Context, identifier: string): Answer {
  const type = ctx.query.get("scheduleIdentifierType") ?? ctx.query.get("identifierType") ?? "id";
  if (type !== "id" && type !== "name") throw unprocessable("scheduleIdentifierType must be id or name");
  const schedule = ctx.state.schedules.find((candidate) =>
    type === "id" ? candidate.id === identifier : candidate.name === identifier,
  );
  if (schedule === undefined) throw notFound(`Schedule with identifier [${identifier}] does not exist`);
  const flat = booleanParam(ctx.query, "flat");
  const date = dateParam(ctx.query, "date") ?? ctx.state.clock();
  const onCall = schedule.enabled
    ? schedule.shifts.filter(
        (shift) => (shift.start === null || shift.start <= date) && (shift.end === null || shift.end > date),
      )
    : [];
  const users = [...new Set(onCall.map((shift) => shift.username))].flatMap((username) => {
    const user = findUser(ctx.state, username);
    return user === undefined ? [] : [user];
  });
  const parent = { id: schedule.id, name: schedule.name, enabled: schedule.enabled };
  return flat
    ? { data: { _parent: parent, onCallRecipients: users.map((user) => user.username) } }
    : {
        data: {
          _parent: parent,
          onCallParticipants: users.map((user) => ({ id: user.id, name: user.username, type: "user" })),
        },
      };
}

/** `GET /v2/users/{identifier}`: by id or username. */
export function getUser(ctx: Context, identifier: string): Answer {
  const user = findUser(ctx.state, identifier);
  if (user === undefined) throw notFound(`No user exists with username [${identifier}]`);
  return { data: { id: user.id, username: user.username, fullName: user.fullName, blocked: false } };
}

const renderIncident = (incident: OpsgenieIncidentRecord) => ({
  id: incident.id,
  tinyId: incident.tinyId,
  message: incident.message,
  status: incident.status,
  isSeen: false,
  tags: [],
  createdAt: incident.createdAt.toISOString(),
  updatedAt: incident.updatedAt.toISOString(),
  source: "leasehold-sandbox",
  owner: "",
  priority: "P3",
  responders: incident.responders,
  impactedServices: incident.impactedServices,
  extraProperties: {},
});

/**
 * The search query: terms `field:value` joined by `AND`. Only `status` is understood; Opsgenie's full
 * search syntax is larger, and anything else is refused (422) rather than silently ignored.
 */
function queryFilter(query: string | null): (incident: OpsgenieIncidentRecord) => boolean {
  if (query === null || query.trim() === "") return () => true;
  const statuses: string[] = [];
  for (const term of query.trim().split(/\s+AND\s+/i)) {
    const match = /^status\s*:\s*(\w+)$/i.exec(term.trim());
    if (match?.[1] === undefined)
      throw unprocessable(`The stand-in does not understand query term "${term}"`);
    statuses.push(match[1].toLowerCase());
  }
  return (incident) => statuses.every((status) => incident.status === status);
}

/** `GET /v1/incidents`: newest first by default, offset paging, links in `paging` and `X-Paging-*`. */
export function listIncidents(ctx: Context): Answer {
  const page = pageParams(ctx.query);
  const order = ctx.query.get("order") ?? "desc";
  if (order !== "asc" && order !== "desc") throw unprocessable("order must be asc or desc");
  const sort = ctx.query.get("sort") ?? "createdAt";
  if (sort !== "createdAt") throw unprocessable("The stand-in sorts by createdAt only");
  const matches = [...ctx.state.incidents.values()]
    .filter(queryFilter(ctx.query.get("query")))
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.tinyId.localeCompare(b.tinyId));
  if (order === "desc") matches.reverse();
  const link = (offset: number) => {
    const params = new URLSearchParams(ctx.query);
    params.set("offset", String(offset));
    params.set("limit", String(page.limit));
    return `${ctx.apiUrl}/v1/incidents?${params}`;
  };
  const lastOffset = Math.max(0, Math.floor((matches.length - 1) / page.limit) * page.limit);
  const paging: Record<string, string> = { first: link(0), last: link(lastOffset) };
  if (page.offset + page.limit < matches.length) paging.next = link(page.offset + page.limit);
  if (page.offset > 0) paging.prev = link(Math.max(0, page.offset - page.limit));
  const headers = Object.fromEntries(
    Object.entries(paging).map(([name, url]) => [`X-Paging-${name[0]?.toUpperCase()}${name.slice(1)}`, url]),
  );
  return {
    data: matches.slice(page.offset, page.offset + page.limit).map(renderIncident),
    extra: { paging },
    headers,
  };
}

/** `GET /v1/incidents/{identifier}?identifierType=id|tiny`. */
export function getIncident(ctx: Context, identifier: string): Answer {
  const type = ctx.query.get("identifierType") ?? "id";
  if (type !== "id" && type !== "tiny") throw unprocessable("identifierType must be id or tiny");
  const incident = [...ctx.state.incidents.values()].find((candidate) =>
    type === "id" ? candidate.id === identifier : candidate.tinyId === identifier,
  );
  if (incident === undefined) throw notFound(`Incident with id [${identifier}] does not exist`);
  return { data: renderIncident(incident) };
}
