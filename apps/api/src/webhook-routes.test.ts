import { type PagerDutySandbox, startPagerDutySandbox } from "@leasehold/sandbox";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { registerWebhookRoutes } from "./webhook-routes.js";

/*
 * POST /webhooks/pagerduty over real HTTP, with webhooks signed and sent by the PagerDuty stand-in as
 * PagerDuty sends them: only a genuine incident.resolved prompts the check, and every answer is 204.
 */

const SECRET = "whsec-current-0a8f";
let pd: PagerDutySandbox;
let app: FastifyInstance;
let url: string;
let resolved: string[];

beforeAll(async () => {
  pd = await startPagerDutySandbox({
    token: "t",
    users: [],
    escalationPolicies: [{ id: "PEP1", name: "p" }],
    services: [{ id: "PSVC1", name: "s", escalationPolicyId: "PEP1" }],
    incidents: ["PINC001", "PINC002", "PINC003", "PINC004"].map((id) => ({
      id,
      title: id,
      serviceId: "PSVC1",
    })),
  });
  app = Fastify();
  await registerWebhookRoutes(app, {
    secrets: ["whsec-old-77c1", SECRET],
    incidentResolved: async (incidentId) => {
      resolved.push(incidentId);
      return 1;
    },
  });
  url = `${await app.listen({ host: "127.0.0.1", port: 0 })}/webhooks/pagerduty`;
});
afterAll(async () => {
  await app?.close();
  await pd?.close();
});
beforeEach(() => {
  resolved = [];
});

describe("PagerDuty's incident webhooks", () => {
  it("a signed incident.resolved prompts the check for that incident", async () => {
    const sent = await pd.sendWebhook({ url, secrets: [SECRET], incidentId: "PINC001" });
    expect(sent.status).toBe(204);
    expect(resolved).toEqual(["PINC001"]);
  });

  it("accepts either secret during a rotation", async () => {
    await pd.sendWebhook({ url, secrets: ["whsec-old-77c1"], incidentId: "PINC002" });
    expect(resolved).toEqual(["PINC002"]);
  });

  it.each([
    ["signed with another secret", { secrets: ["whsec-forged"], incidentId: "PINC003" }],
    [
      "about a triggered incident",
      { secrets: [SECRET], incidentId: "PINC004", eventType: "incident.triggered" },
    ],
  ])("does nothing for a webhook %s, and answers 204", async (_, delivery) => {
    const sent = await pd.sendWebhook({ url, ...delivery });
    expect(sent.status).toBe(204);
    expect(resolved).toEqual([]);
  });

  it("does nothing for an unsigned body", async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-webhook-id": "w1" },
      body: JSON.stringify({
        event: {
          event_type: "incident.resolved",
          resource_type: "incident",
          data: { id: "PINC005", type: "incident" },
        },
      }),
    });
    expect(response.status).toBe(204);
    expect(resolved).toEqual([]);
  });
});
