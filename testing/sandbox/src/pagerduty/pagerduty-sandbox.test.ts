import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeServer, listen, readBody } from "../http/http-server.js";
import { startPagerDutySandbox } from "./pagerduty-sandbox.js";
import type { PagerDutySandbox } from "./pagerduty-sandbox-types.js";

const TOKEN = "pd-sandbox-token-0123456789";
const NOW = new Date("2026-12-01T12:00:00Z");
const HOUR = 3_600_000;
const at = (hours: number) => new Date(NOW.getTime() + hours * HOUR);
const ACCEPT = "application/vnd.pagerduty+json;version=2";

let pd: PagerDutySandbox;

beforeAll(async () => {
  pd = await startPagerDutySandbox({
    token: TOKEN,
    bearerTokens: ["oauth-user-token"],
    clock: () => NOW,
    users: [
      { id: "PALICE1", name: "Alice Example", email: "alice@example.com" },
      { id: "PBOB001", name: "Bob Example", email: "bob@example.com" },
      { id: "PCAROL1", name: "Carol Other", email: "carol@example.org" },
    ],
    escalationPolicies: [
      { id: "PEPAPI1", name: "API" },
      { id: "PEPDB01", name: "Database" },
    ],
    schedules: [{ id: "PSCHED1", name: "API primary" }],
    services: [
      { id: "PSVCAPI", name: "api", escalationPolicyId: "PEPAPI1" },
      { id: "PSVCDB1", name: "db", escalationPolicyId: "PEPDB01" },
    ],
    oncalls: [
      { userId: "PALICE1", escalationPolicyId: "PEPAPI1", scheduleId: "PSCHED1", start: at(-2), end: at(2) },
      { userId: "PBOB001", escalationPolicyId: "PEPAPI1", scheduleId: "PSCHED1", start: at(2), end: at(6) },
      { userId: "PCAROL1", escalationPolicyId: "PEPAPI1", level: 2, start: null, end: null },
      { userId: "PBOB001", escalationPolicyId: "PEPDB01", start: at(-1), end: at(1) },
    ],
    incidents: [
      { id: "PINC001", title: "API down", serviceId: "PSVCAPI", assigneeIds: ["PALICE1"] },
      { id: "PINC002", title: "DB slow", serviceId: "PSVCDB1", assigneeIds: ["PBOB001"] },
      { id: "PINC003", title: "API slow", serviceId: "PSVCAPI", assigneeIds: ["PBOB001"] },
    ],
  });
});
afterAll(async () => {
  await pd.close();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${pd.url}${path}`, {
    headers: { Authorization: `Token token=${TOKEN}`, Accept: ACCEPT, ...headers },
  });
const getJson = async (path: string) => {
  const response = await get(path);
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown> & { more: boolean };
};

describe("PagerDuty stand-in: requests", () => {
  it("refuses a missing or wrong key with 401 and PagerDuty's error body", async () => {
    const missing = await fetch(`${pd.url}/oncalls`, { headers: { Accept: ACCEPT } });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ error: { message: "Authentication failed", code: 2006 } });
    expect((await get("/oncalls", { Authorization: "Token token=wrong" })).status).toBe(401);
    expect((await get("/oncalls", { Authorization: `Bearer ${TOKEN}` })).status).toBe(401);
    expect((await get("/oncalls", { Authorization: `GenieKey ${TOKEN}` })).status).toBe(401);
  });

  it("accepts an OAuth token as Bearer", async () => {
    expect((await get("/oncalls", { Authorization: "Bearer oauth-user-token" })).status).toBe(200);
  });

  it("refuses a request without the version-2 Accept header, or naming another version", async () => {
    const missing = await fetch(`${pd.url}/oncalls`, { headers: { Authorization: `Token token=${TOKEN}` } });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { code: number } }).error.code).toBe(2001);
    expect((await get("/oncalls", { Accept: "application/vnd.pagerduty+json;version=1" })).status).toBe(400);
  });

  it("answers 404 with code 2100 for an unknown incident or path", async () => {
    const response = await get("/incidents/PNOPE99");
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { message: "Not Found", code: 2100 } });
    expect((await get("/nothing")).status).toBe(404);
  });

  it("refuses bad paging, dates and filter values with 400", async () => {
    expect((await get("/oncalls?limit=ten")).status).toBe(400);
    expect((await get("/oncalls?offset=9950&limit=100")).status).toBe(400);
    expect((await get("/oncalls?since=yesterday")).status).toBe(400);
    expect((await get(`/oncalls?since=${at(2).toISOString()}&until=${at(1).toISOString()}`)).status).toBe(
      400,
    );
    expect((await get(`/oncalls?until=${at(24 * 91).toISOString()}`)).status).toBe(400);
    expect((await get("/incidents?statuses[]=open")).status).toBe(400);
    expect((await get("/oncalls?include[]=teams")).status).toBe(400);
  });
});

describe("PagerDuty stand-in: /oncalls", () => {
  it("lists who is on call now, filtered by user and policy, with references", async () => {
    const body = await getJson("/oncalls?escalation_policy_ids[]=PEPAPI1");
    const oncalls = body.oncalls as { user: { id: string; type: string }; escalation_level: number }[];
    expect(oncalls.map((o) => [o.user.id, o.escalation_level])).toEqual([
      ["PALICE1", 1],
      ["PCAROL1", 2],
    ]);
    expect(oncalls[0]?.user.type).toBe("user_reference");
    expect(body).toMatchObject({ limit: 25, offset: 0, more: false, total: null });
    const bob = await getJson("/oncalls?user_ids[]=PBOB001&escalation_policy_ids[]=PEPAPI1");
    expect(bob.oncalls).toEqual([]);
  });

  it("answers for a window in the future", async () => {
    const since = encodeURIComponent(at(3).toISOString());
    const body = await getJson(`/oncalls?user_ids[]=PBOB001&since=${since}&until=${since}`);
    const oncalls = body.oncalls as { escalation_policy: { id: string }; start: string; end: string }[];
    expect(oncalls).toHaveLength(1);
    expect(oncalls[0]).toMatchObject({ escalation_policy: { id: "PEPAPI1" }, end: at(6).toISOString() });
  });

  it("pages with limit, offset and more, and counts with total=true", async () => {
    const first = await getJson("/oncalls?limit=1&total=true");
    expect(first).toMatchObject({ limit: 1, offset: 0, more: true, total: 3 });
    const last = await getJson("/oncalls?limit=1&offset=2");
    expect(last.more).toBe(false);
    expect((last.oncalls as unknown[]).length).toBe(1);
  });

  it("selects direct targets with a null schedule id and expands users on request", async () => {
    const body = await getJson("/oncalls?schedule_ids[]=null&include[]=users");
    const oncalls = body.oncalls as { user: { email: string; type: string }; schedule: null }[];
    expect(oncalls.map((o) => o.user.email)).toEqual(["carol@example.org", "bob@example.com"]);
    expect(oncalls[0]?.user.type).toBe("user");
  });
});

describe("PagerDuty stand-in: /users and /incidents", () => {
  it("finds users by email", async () => {
    const body = await getJson(`/users?query=${encodeURIComponent("ALICE@example.com")}`);
    expect(body.users).toEqual([expect.objectContaining({ id: "PALICE1", email: "alice@example.com" })]);
  });

  it("filters incidents by status, service and assignee (AND)", async () => {
    const body = await getJson(
      "/incidents?statuses[]=triggered&statuses[]=acknowledged&service_ids[]=PSVCAPI&user_ids[]=PBOB001",
    );
    const incidents = body.incidents as { id: string; assignments: { assignee: { id: string } }[] }[];
    expect(incidents.map((i) => i.id)).toEqual(["PINC003"]);
    expect(incidents[0]?.assignments[0]?.assignee.id).toBe("PBOB001");
  });

  it("resolves an incident: status, resolved_at, no assignments, gone from the assignee filter", async () => {
    pd.triggerIncident({
      id: "PINC100",
      title: "Queue stuck",
      serviceId: "PSVCAPI",
      assigneeIds: ["PCAROL1"],
    });
    const open = await getJson("/incidents?user_ids[]=PCAROL1");
    expect((open.incidents as { id: string }[]).map((i) => i.id)).toEqual(["PINC100"]);
    pd.resolveIncident("PINC100");
    const { incident } = (await getJson("/incidents/PINC100")) as unknown as {
      incident: { status: string; assignments: unknown[]; resolved_at: string };
    };
    expect(incident).toMatchObject({ status: "resolved", assignments: [], resolved_at: NOW.toISOString() });
    expect((await getJson("/incidents?user_ids[]=PCAROL1")).incidents).toEqual([]);
  });

  it("lists only incidents created in the last month unless date_range=all", async () => {
    pd.triggerIncident({ id: "PINCOLD", title: "Old", serviceId: "PSVCDB1", assigneeIds: [] });
    const old = pd.incident("PINCOLD");
    if (old !== undefined) old.createdAt = at(-24 * 40);
    const recent = await getJson("/incidents?service_ids[]=PSVCDB1");
    expect((recent.incidents as { id: string }[]).map((i) => i.id)).toEqual(["PINC002"]);
    const all = await getJson("/incidents?service_ids[]=PSVCDB1&date_range=all");
    expect((all.incidents as { id: string }[]).map((i) => i.id)).toEqual(["PINC002", "PINCOLD"]);
  });
});

describe("PagerDuty stand-in: faults", () => {
  it("answers 500, 429 with or without headers, then recovers", async () => {
    pd.injectFault({ kind: "http500", path: "/oncalls", times: 1 });
    pd.injectFault({ kind: "ratelimit", path: "/incidents", times: 1, resetSeconds: 12 });
    pd.injectFault({ kind: "ratelimit", path: "/users", times: 1, bare: true });
    const failed = await get("/oncalls");
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ error: { message: "Internal Server Error", code: 2000 } });
    const limited = await get("/incidents");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("ratelimit-reset")).toBe("12");
    expect(await limited.json()).toEqual({ error: { message: "Rate Limit Exceeded", code: 2020 } });
    const bare = await get("/users");
    expect(bare.status).toBe(429);
    expect(bare.headers.get("ratelimit-reset")).toBeNull();
    expect(await bare.text()).toBe("");
    expect((await get("/oncalls")).status).toBe(200);
  });

  it("delays an answer past a client's timeout", async () => {
    pd.injectFault({ kind: "delay", path: "*", times: 1, ms: 5_000 });
    const timedOut = await fetch(`${pd.url}/oncalls`, {
      headers: { Authorization: `Token token=${TOKEN}`, Accept: ACCEPT },
      signal: AbortSignal.timeout(100),
    }).then(
      () => "answered",
      (error: unknown) => (error as Error).name,
    );
    expect(timedOut).toBe("TimeoutError");
  });

  it("never records the token in its call log", () => {
    expect(JSON.stringify(pd.calls)).not.toContain(TOKEN);
  });
});

describe("PagerDuty stand-in: webhooks", () => {
  it("sends one signed event per POST with X-Webhook-Id and one v1= entry per secret", async () => {
    const received: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
    const receiver = createServer((req, res) => {
      void readBody(req, 1 << 20).then((body) => {
        received.push({ headers: req.headers, body });
        res.writeHead(202).end();
      });
    });
    const port = await listen(receiver, 0, "127.0.0.1");
    try {
      pd.triggerIncident({ id: "PINC200", title: "Cache", serviceId: "PSVCAPI", assigneeIds: ["PALICE1"] });
      pd.resolveIncident("PINC200");
      const result = await pd.sendWebhook({
        url: `http://127.0.0.1:${port}/hooks/pagerduty`,
        secrets: ["old-secret", "new-secret"],
        incidentId: "PINC200",
        webhookId: "wh-1",
      });
      expect(result.status).toBe(202);
      const [delivery] = received;
      expect(delivery?.headers["x-webhook-id"]).toBe("wh-1");
      const hmac = (secret: string) =>
        createHmac("sha256", secret)
          .update(delivery?.body ?? "")
          .digest("hex");
      expect(delivery?.headers["x-pagerduty-signature"]).toBe(
        `v1=${hmac("old-secret")},v1=${hmac("new-secret")}`,
      );
      const event = JSON.parse(delivery?.body.toString("utf8") ?? "{}").event;
      expect(event).toMatchObject({
        event_type: "incident.resolved",
        resource_type: "incident",
        data: { id: "PINC200", type: "incident", status: "resolved", service: { id: "PSVCAPI" } },
      });
    } finally {
      await closeServer(receiver);
    }
  });
});
