import { z } from "zod";
import { allFinished } from "./on-call-http.js";
import { checkedBinding, checkedEmail, checkedIncidentId } from "./on-call-input.js";
import type { OnCallBinding } from "./on-call-schemas.js";
import type { OnCallSource, OnCallStatus } from "./on-call-source.js";
import { createOpsgenieApi, type OpsgenieApiOptions } from "./opsgenie-api.js";

/**
 * Opsgenie behind the OnCallSource port (contracts wave2 §8). Opsgenie's outgoing webhooks are not
 * signed, so Leasehold polls:
 * - on call: `GET /v2/schedules/{name}/on-calls?scheduleIdentifierType=name&flat=true&date=…` per
 *   schedule; recipients are usernames, which in Opsgenie are email addresses;
 * - email → user id: `GET /v2/users/{email}`;
 * - incidents: `GET /v1/incidents?query=status:open` (offset paging), kept when `impactedServices` names
 *   the service and a `user` responder is this person. Team responders do not count: that would need
 *   team membership, which this port does not read;
 * - still open: `GET /v1/incidents/{id}?identifierType=id`: only status `open` counts as open (Opsgenie
 *   does not document its status values; anything else ends the grant, the safe direction).
 */

export type OpsgenieSourceOptions = OpsgenieApiOptions;

const envelope = <T extends z.ZodType>(data: T) => z.object({ data });
const onCallRecipients = envelope(z.object({ onCallRecipients: z.array(z.string().max(320)).max(1000) }));
const user = envelope(z.object({ id: z.string().max(128) }));
const incidentFields = z.object({
  id: z.string().max(128),
  status: z.string().max(32),
  impactedServices: z.array(z.string().max(128)).max(1000).default([]),
  responders: z
    .array(z.object({ type: z.string().max(32), id: z.string().max(128) }))
    .max(1000)
    .default([]),
});
const incidentsPage = z.object({ data: z.array(incidentFields).max(100) });
const incidentBody = envelope(incidentFields);

/** `yyyy-MM-dd'T'HH:mm:ssZ`, the format Opsgenie documents for `date` (UTC, no milliseconds). */
const opsgenieDate = (at: Date) => at.toISOString().replace(/\.\d{3}Z$/, "Z");

export function createOpsgenieSource(options: OpsgenieSourceOptions): OnCallSource {
  const { get, getOrMissing, pageSize, maxPages } = createOpsgenieApi(options);

  async function onCallIn(schedule: string, email: string, at: Date): Promise<boolean> {
    const path = `/v2/schedules/${encodeURIComponent(schedule)}/on-calls`;
    const query = new URLSearchParams({
      scheduleIdentifierType: "name",
      flat: "true",
      date: opsgenieDate(at),
    });
    const body = await get(path, onCallRecipients, query);
    return body.data.onCallRecipients.some((recipient) => recipient.toLowerCase() === email);
  }

  async function userIdOf(email: string): Promise<string | undefined> {
    const path = `/v2/users/${encodeURIComponent(email)}`;
    const body = await getOrMissing(path, user);
    return body?.data.id;
  }

  async function assignedIncidents(email: string, binding: OnCallBinding): Promise<string[]> {
    const userId = await userIdOf(email);
    if (userId === undefined) return [];
    const found: string[] = [];
    for (let page = 0; page < maxPages; page++) {
      const query = new URLSearchParams({
        query: "status:open",
        offset: String(page * pageSize),
        limit: String(pageSize),
        sort: "createdAt",
        order: "desc",
      });
      const body = await get("/v1/incidents", incidentsPage, query);
      for (const incident of body.data) {
        const assigned = incident.responders.some(
          (responder) => responder.type === "user" && responder.id === userId,
        );
        if (incident.status === "open" && assigned && incident.impactedServices.includes(binding.service)) {
          found.push(incident.id);
        }
      }
      if (body.data.length < pageSize) break;
    }
    return found;
  }

  return {
    async status(email, binding, at): Promise<OnCallStatus> {
      const address = checkedEmail(email);
      const checked = checkedBinding(binding, "opsgenie");
      const [onCall, incidents] = await allFinished<[boolean[], string[]]>([
        allFinished<boolean[]>(checked.schedules.map((schedule) => onCallIn(schedule, address, at))),
        assignedIncidents(address, checked),
      ]);
      return { onCall: onCall.some(Boolean), incidents };
    },

    async incidentOpen(binding, incidentId) {
      const checked = checkedBinding(binding, "opsgenie");
      const path = `/v1/incidents/${checkedIncidentId(incidentId, "opsgenie")}`;
      const body = await getOrMissing(path, incidentBody, new URLSearchParams({ identifierType: "id" }));
      if (body === undefined) return false;
      return body.data.status === "open" && body.data.impactedServices.includes(checked.service);
    },
  };
}
