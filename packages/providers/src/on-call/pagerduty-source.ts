import { z } from "zod";
import { allFinished } from "./on-call-http.js";
import { checkedBinding, checkedEmail, checkedIncidentId } from "./on-call-input.js";
import { type OnCallBinding, pagerDutyId } from "./on-call-schemas.js";
import type { OnCallSource, OnCallStatus } from "./on-call-source.js";
import { createPagerDutyApi, type PagerDutyApiOptions } from "./pagerduty-api.js";

/**
 * PagerDuty REST API v2 behind the OnCallSource port (contracts wave2 §7):
 * - email → user: `GET /users?query=<email>`, keeping only a user whose email is exactly that address;
 * - on call: `GET /oncalls?user_ids[]=…&escalation_policy_ids[]=…&since=at&until=at`, every level;
 * - incidents: `GET /incidents?statuses[]=triggered&statuses[]=acknowledged&service_ids[]=…&user_ids[]=…&date_range=all`
 *   (`date_range=all`, or PagerDuty only lists incidents created in the last month);
 * - still open: `GET /incidents/{id}`.
 * Results are checked again on our side (user, policy, window, service, status, assignee), so a filter
 * PagerDuty ignored cannot make someone on call.
 */

export type PagerDutySourceOptions = PagerDutyApiOptions;

const reference = z.object({ id: pagerDutyId });
const pageFields = { more: z.boolean().optional() };
const usersPage = z.object({
  users: z.array(z.object({ id: pagerDutyId, email: z.string().max(320) })).max(100),
  ...pageFields,
});
const onCallsPage = z.object({
  oncalls: z
    .array(
      z.object({
        user: reference,
        escalation_policy: reference,
        start: z.string().max(64).nullable(),
        end: z.string().max(64).nullable(),
      }),
    )
    .max(100),
  ...pageFields,
});
const incidentFields = z.object({
  id: pagerDutyId,
  status: z.string().max(32),
  service: reference,
  assignments: z.array(z.object({ assignee: reference })).max(1000),
});
const incidentsPage = z.object({ incidents: z.array(incidentFields).max(100), ...pageFields });
const incidentBody = z.object({ incident: incidentFields });

const OPEN = new Set(["triggered", "acknowledged"]);

/** Whether [start, end) covers `at`; null ends are open. */
const covers = (start: string | null, end: string | null, at: Date) =>
  (start === null || Date.parse(start) <= at.getTime()) && (end === null || Date.parse(end) > at.getTime());

export function createPagerDutySource(options: PagerDutySourceOptions): OnCallSource {
  const { listAll, getOne } = createPagerDutyApi(options);

  async function userIdOf(email: string): Promise<string | undefined> {
    const users = await listAll("/users", new URLSearchParams({ query: email }), "users", usersPage);
    return users.find((user) => user.email.toLowerCase() === email)?.id;
  }

  async function onCall(userId: string, binding: OnCallBinding, at: Date): Promise<boolean> {
    if (binding.schedules.length === 0) return false;
    const query = new URLSearchParams({
      "user_ids[]": userId,
      since: at.toISOString(),
      until: at.toISOString(),
    });
    for (const policy of binding.schedules) query.append("escalation_policy_ids[]", policy);
    const entries = await listAll("/oncalls", query, "oncalls", onCallsPage);
    return entries.some(
      (entry) =>
        entry.user.id === userId &&
        binding.schedules.includes(entry.escalation_policy.id) &&
        covers(entry.start, entry.end, at),
    );
  }

  async function assignedIncidents(userId: string, binding: OnCallBinding): Promise<string[]> {
    const query = new URLSearchParams([
      ["statuses[]", "triggered"],
      ["statuses[]", "acknowledged"],
      ["service_ids[]", binding.service],
      ["user_ids[]", userId],
      ["date_range", "all"],
    ]);
    const incidents = await listAll("/incidents", query, "incidents", incidentsPage);
    return incidents
      .filter(
        (incident) =>
          OPEN.has(incident.status) &&
          incident.service.id === binding.service &&
          incident.assignments.some((assignment) => assignment.assignee.id === userId),
      )
      .map((incident) => incident.id);
  }

  return {
    async status(email, binding, at): Promise<OnCallStatus> {
      const address = checkedEmail(email);
      const checked = checkedBinding(binding, "pagerduty");
      const userId = await userIdOf(address);
      if (userId === undefined) return { onCall: false, incidents: [] };
      const [isOnCall, incidents] = await allFinished<[boolean, string[]]>([
        onCall(userId, checked, at),
        assignedIncidents(userId, checked),
      ]);
      return { onCall: isOnCall, incidents };
    },

    async incidentOpen(binding, incidentId) {
      const checked = checkedBinding(binding, "pagerduty");
      const path = `/incidents/${checkedIncidentId(incidentId, "pagerduty")}`;
      const body = await getOne(path, incidentBody);
      if (body === undefined) return false;
      return OPEN.has(body.incident.status) && body.incident.service.id === checked.service;
    },
  };
}
