import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpsgenieSandbox } from "./opsgenie-sandbox.js";
import type { OpsgenieSandbox } from "./opsgenie-sandbox-types.js";

const KEY = "og-sandbox-key-0123456789";
const NOW = new Date("2026-12-01T12:00:00Z");
const HOUR = 3_600_000;
const at = (hours: number) => new Date(NOW.getTime() + hours * HOUR);

let og: OpsgenieSandbox;

beforeAll(async () => {
  og = await startOpsgenieSandbox({
    apiKey: KEY,
    keysWithoutPermission: ["og-team-key"],
    clock: () => NOW,
    users: [
      { id: "u-alice", username: "alice@example.com", fullName: "Alice" },
      { id: "u-bob", username: "bob@example.com", fullName: "Bob" },
    ],
    schedules: [
      {
        id: "s-api",
        name: "api primary",
        shifts: [
          { username: "alice@example.com", start: at(-2), end: at(2) },
          { username: "bob@example.com", start: at(2), end: at(6) },
        ],
      },
      { id: "s-off", name: "disabled", enabled: false, shifts: [{ username: "bob@example.com" }] },
    ],
    incidents: Array.from({ length: 5 }, (_, index) => ({
      id: `inc-${index}`,
      message: `Incident ${index}`,
      impactedServices: ["svc-api"],
      responders: [{ type: "user" as const, id: "u-alice" }],
      createdAt: at(-10 + index),
      status: index === 4 ? ("resolved" as const) : ("open" as const),
    })),
  });
});
afterAll(async () => {
  await og.close();
});

type Envelope = { data: unknown; took: number; requestId: string; paging?: Record<string, string> };
const get = (path: string, authorization = `GenieKey ${KEY}`) =>
  fetch(`${og.url}${path}`, { headers: { Authorization: authorization } });
const getJson = async (path: string): Promise<Envelope> => {
  const response = await get(path);
  expect(response.status).toBe(200);
  return (await response.json()) as Envelope;
};

describe("Opsgenie stand-in: requests", () => {
  it("refuses a missing or wrong key with 401 in Opsgenie's envelope", async () => {
    const response = await fetch(`${og.url}/v1/incidents`);
    expect(response.status).toBe(401);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ message: "Could not authenticate" });
    expect(typeof body.took).toBe("number");
    expect(body.requestId).toBe(response.headers.get("x-request-id"));
    expect((await get("/v1/incidents", "GenieKey wrong")).status).toBe(401);
    expect((await get("/v1/incidents", `Bearer ${KEY}`)).status).toBe(401);
    expect((await get("/v1/incidents", `Token token=${KEY}`)).status).toBe(401);
  });

  it("answers 403 with code 40301 for a key without permission", async () => {
    const response = await get("/v1/incidents", "GenieKey og-team-key");
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: 40301 });
  });

  it("answers 404 for an unknown schedule, user or incident", async () => {
    expect((await get("/v2/schedules/nope/on-calls")).status).toBe(404);
    expect((await get("/v2/users/nobody%40example.com")).status).toBe(404);
    expect((await get("/v1/incidents/nope")).status).toBe(404);
  });
});

describe("Opsgenie stand-in: on-calls", () => {
  it("names who is on call now, by schedule id or name, flat or not", async () => {
    const byId = await getJson("/v2/schedules/s-api/on-calls");
    expect(byId.data).toEqual({
      _parent: { id: "s-api", name: "api primary", enabled: true },
      onCallParticipants: [{ id: "u-alice", name: "alice@example.com", type: "user" }],
    });
    const flat = await getJson("/v2/schedules/api%20primary/on-calls?scheduleIdentifierType=name&flat=true");
    expect(flat.data).toMatchObject({ onCallRecipients: ["alice@example.com"] });
    const oas = await getJson("/v2/schedules/api%20primary/on-calls?identifierType=name&flat=true");
    expect(oas.data).toMatchObject({ onCallRecipients: ["alice@example.com"] });
  });

  it("answers for a date, which needs its + encoded", async () => {
    const later = await getJson(
      `/v2/schedules/s-api/on-calls?flat=true&date=${encodeURIComponent("2026-12-01T16:00:00+03:00")}`,
    );
    expect(later.data).toMatchObject({ onCallRecipients: ["alice@example.com"] });
    const bob = await getJson("/v2/schedules/s-api/on-calls?flat=true&date=2026-12-01T15:00:00Z");
    expect(bob.data).toMatchObject({ onCallRecipients: ["bob@example.com"] });
    expect((await get("/v2/schedules/s-api/on-calls?date=2026-12-01T17:00:00+03:00")).status).toBe(422);
  });

  it("has nobody on call for a disabled schedule, or after setShifts empties it", async () => {
    expect((await getJson("/v2/schedules/s-off/on-calls?flat=true")).data).toMatchObject({
      onCallRecipients: [],
    });
    og.setShifts("api primary", []);
    expect((await getJson("/v2/schedules/s-api/on-calls")).data).toMatchObject({ onCallParticipants: [] });
    og.setShifts("api primary", [{ username: "alice@example.com", start: at(-2), end: at(2) }]);
  });
});

describe("Opsgenie stand-in: users and incidents", () => {
  it("gets a user by username", async () => {
    const body = await getJson(`/v2/users/${encodeURIComponent("alice@example.com")}`);
    expect(body.data).toMatchObject({ id: "u-alice", username: "alice@example.com" });
  });

  it("lists incidents newest first with offset paging and paging links", async () => {
    const first = await getJson("/v1/incidents?query=status%3Aopen&limit=3");
    expect((first.data as { id: string }[]).map((i) => i.id)).toEqual(["inc-3", "inc-2", "inc-1"]);
    expect(first.paging?.next).toContain("offset=3");
    const second = await getJson("/v1/incidents?query=status%3Aopen&limit=3&offset=3");
    expect((second.data as { id: string }[]).map((i) => i.id)).toEqual(["inc-0"]);
    expect(second.paging?.next).toBeUndefined();
    const response = await get("/v1/incidents?limit=2");
    expect(response.headers.get("x-paging-next")).toContain("offset=2");
  });

  it("refuses a limit over 100 and a query it does not understand", async () => {
    expect((await get("/v1/incidents?limit=101")).status).toBe(422);
    expect((await get("/v1/incidents?query=owner%3Aalice")).status).toBe(422);
  });

  it("gets an incident by id or tiny id, with its status, services and responders", async () => {
    og.openIncident({ id: "inc-new", tinyId: "77", message: "New", impactedServices: ["svc-db"] });
    const byTiny = await getJson("/v1/incidents/77?identifierType=tiny");
    expect(byTiny.data).toMatchObject({ id: "inc-new", status: "open", impactedServices: ["svc-db"] });
    og.resolveIncident("inc-new");
    expect((await getJson("/v1/incidents/inc-new")).data).toMatchObject({ status: "resolved" });
  });
});

describe("Opsgenie stand-in: faults", () => {
  it("answers 500, 429 with rate-limit headers, then recovers", async () => {
    og.injectFault({ kind: "http500", path: "/v1/incidents", times: 1 });
    og.injectFault({ kind: "ratelimit", path: "/v2/schedules/{identifier}/on-calls", times: 1 });
    expect((await get("/v1/incidents")).status).toBe(500);
    const limited = await get("/v2/schedules/s-api/on-calls");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("x-ratelimit-state")).toBe("THROTTLED");
    expect((await get("/v1/incidents")).status).toBe(200);
  });

  it("delays an answer past a client's timeout", async () => {
    og.injectFault({ kind: "delay", path: "*", times: 1, ms: 5_000 });
    const outcome = await fetch(`${og.url}/v1/incidents`, {
      headers: { Authorization: `GenieKey ${KEY}` },
      signal: AbortSignal.timeout(100),
    }).then(
      () => "answered",
      (error: unknown) => (error as Error).name,
    );
    expect(outcome).toBe("TimeoutError");
  });
});
