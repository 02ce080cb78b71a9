import { createServer, type IncomingHttpHeaders } from "node:http";
import { type PagerDutySandbox, pagerDutySignature, startPagerDutySandbox } from "@leasehold/sandbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseWebhookSecrets, verifyPagerDutyWebhook } from "./pagerduty-webhook.js";

const OLD = "whsec-old-5b1e";
const NEW = "whsec-new-c47d";

type Delivery = { headers: IncomingHttpHeaders; body: Buffer };
let pd: PagerDutySandbox;
let receiver: ReturnType<typeof createServer>;
let receiverUrl: string;
const received: Delivery[] = [];

beforeAll(async () => {
  pd = await startPagerDutySandbox({
    token: "pd-token",
    users: [{ id: "PAL0001", name: "Al", email: "al@example.com" }],
    escalationPolicies: [{ id: "PEPAPI1", name: "API" }],
    services: [{ id: "PSVCAPI", name: "api", escalationPolicyId: "PEPAPI1" }],
    incidents: [{ id: "PINC001", title: "API down", serviceId: "PSVCAPI", assigneeIds: ["PAL0001"] }],
  });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const address = receiver.address();
  if (address === null || typeof address === "string") throw new Error("not bound");
  receiverUrl = `http://127.0.0.1:${address.port}/hooks/pagerduty`;
});
afterAll(async () => {
  await pd.close();
  await new Promise((resolve) => {
    receiver.close(resolve);
    receiver.closeAllConnections();
  });
});

/** A webhook PagerDuty's stand-in delivers, as our receiver got it. */
async function deliver(secrets: string[], webhookId = "wh-1", eventType?: string): Promise<Delivery> {
  pd.resolveIncident("PINC001");
  const result = await pd.sendWebhook({
    url: receiverUrl,
    secrets,
    incidentId: "PINC001",
    webhookId,
    ...(eventType === undefined ? {} : { eventType }),
  });
  expect(result.status).toBe(202);
  const delivery = received.at(-1);
  if (delivery === undefined) throw new Error("nothing delivered");
  return delivery;
}

describe("verifyPagerDutyWebhook", () => {
  it("accepts a webhook signed with our secret and names the incident and the webhook", async () => {
    const { headers, body } = await deliver([NEW], "wh-accept");
    expect(verifyPagerDutyWebhook(body, headers, [NEW])).toEqual({
      webhookId: "wh-accept",
      eventType: "incident.resolved",
      incidentId: "PINC001",
    });
  });

  it("refuses a webhook signed with another secret", async () => {
    const { headers, body } = await deliver(["someone-else"]);
    expect(verifyPagerDutyWebhook(body, headers, [NEW, OLD])).toBeNull();
  });

  it("refuses a tampered body", async () => {
    const { headers, body } = await deliver([NEW]);
    const tampered = Buffer.from(body.toString("utf8").replace("PINC001", "PINC002"));
    expect(verifyPagerDutyWebhook(tampered, headers, [NEW])).toBeNull();
    const reformatted = Buffer.from(JSON.stringify(JSON.parse(body.toString("utf8")), null, 2));
    expect(verifyPagerDutyWebhook(reformatted, headers, [NEW])).toBeNull();
  });

  it("accepts during a rotation whichever side holds the new or the old secret", async () => {
    const rotating = await deliver([OLD, NEW]);
    expect(verifyPagerDutyWebhook(rotating.body, rotating.headers, [NEW])).not.toBeNull();
    expect(verifyPagerDutyWebhook(rotating.body, rotating.headers, [OLD])).not.toBeNull();
    const oldOnly = await deliver([OLD]);
    expect(verifyPagerDutyWebhook(oldOnly.body, oldOnly.headers, [NEW, OLD])).not.toBeNull();
    expect(verifyPagerDutyWebhook(oldOnly.body, oldOnly.headers, [NEW])).toBeNull();
  });

  it("accepts nothing with no secrets, and ignores signature schemes other than v1", async () => {
    const { headers, body } = await deliver([NEW]);
    expect(verifyPagerDutyWebhook(body, headers, [])).toBeNull();
    expect(verifyPagerDutyWebhook(body, headers, [""])).toBeNull();
    const v0 = String(headers["x-pagerduty-signature"]).replace("v1=", "v0=");
    expect(verifyPagerDutyWebhook(body, { ...headers, "x-pagerduty-signature": v0 }, [NEW])).toBeNull();
    const withOthers = `v0=abc, ${headers["x-pagerduty-signature"]} ,v2=def`;
    expect(
      verifyPagerDutyWebhook(body, { ...headers, "x-pagerduty-signature": withOthers }, [NEW]),
    ).not.toBeNull();
  });

  it("refuses a signed webhook without X-Webhook-Id, or that is not an incident event", async () => {
    const { headers, body } = await deliver([NEW]);
    const { "x-webhook-id": _dropped, ...withoutId } = headers;
    expect(verifyPagerDutyWebhook(body, withoutId, [NEW])).toBeNull();
    const serviceEvent = Buffer.from(
      JSON.stringify({
        event: { event_type: "service.updated", resource_type: "service", data: { id: "PSVCAPI" } },
      }),
    );
    const signed = {
      "x-pagerduty-signature": pagerDutySignature(serviceEvent, [NEW]),
      "x-webhook-id": "wh-9",
    };
    expect(verifyPagerDutyWebhook(serviceEvent, signed, [NEW])).toBeNull();
    const notJson = Buffer.from("not json");
    const signedText = {
      "x-pagerduty-signature": pagerDutySignature(notJson, [NEW]),
      "x-webhook-id": "wh-10",
    };
    expect(verifyPagerDutyWebhook(notJson, signedText, [NEW])).toBeNull();
  });

  it("passes other incident event types through for the caller to decide", async () => {
    const { headers, body } = await deliver([NEW], "wh-ack", "incident.acknowledged");
    expect(verifyPagerDutyWebhook(body, headers, [NEW])?.eventType).toBe("incident.acknowledged");
  });
});

describe("parseWebhookSecrets", () => {
  it("splits on commas and drops blanks", () => {
    expect(parseWebhookSecrets(` ${OLD}, ,${NEW} `)).toEqual([OLD, NEW]);
    expect(parseWebhookSecrets(undefined)).toEqual([]);
  });
});
