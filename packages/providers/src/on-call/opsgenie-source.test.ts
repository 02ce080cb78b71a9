import { InvalidRequestError } from "@leasehold/domain";
import { type OpsgenieSandbox, startOpsgenieSandbox } from "@leasehold/sandbox";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { OnCallBinding } from "./on-call-schemas.js";
import { OnCallUnavailableError } from "./on-call-source.js";
import { createOpsgenieSource } from "./opsgenie-source.js";
import { startRawServer, unusedUrl } from "./test-raw-server.js";

const KEY = "og-key-never-in-messages-91c2";
const NOW = new Date("2026-12-01T12:00:00Z");
const HOUR = 3_600_000;
const at = (hours: number) => new Date(NOW.getTime() + hours * HOUR);
const api: OnCallBinding = {
  provider: "opsgenie",
  service: "svc-api",
  schedules: ["api primary", "api secondary"],
};

let og: OpsgenieSandbox;
const source = (options: { pageSize?: number; timeoutMs?: number; apiKey?: string; apiUrl?: string } = {}) =>
  createOpsgenieSource({ apiUrl: og.url, apiKey: KEY, ...options });

const failure = async (promise: Promise<unknown>): Promise<Error> => {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  if (outcome === undefined) throw new Error("expected the call to fail");
  return outcome;
};

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
      { id: "s-1", name: "api primary" },
      { id: "s-2", name: "api secondary" },
      { id: "s-3", name: "db" },
    ],
  });
});
afterAll(async () => {
  await og.close();
});
beforeEach(() => {
  og.setShifts("api primary", [
    { username: "alice@example.com", start: at(-2), end: at(2) },
    { username: "bob@example.com", start: at(2), end: at(6) },
  ]);
  og.setShifts("api secondary", []);
  og.setShifts("db", [{ username: "bob@example.com" }]);
});

describe("Opsgenie source: on call", () => {
  it("is on call when a binding's schedule names the person at that time", async () => {
    expect((await source().status("alice@example.com", api, NOW)).onCall).toBe(true);
    expect((await source().status("bob@example.com", api, NOW)).onCall).toBe(false);
    expect((await source().status("Bob@Example.com", api, at(3))).onCall).toBe(true);
    og.setShifts("api secondary", [{ username: "bob@example.com" }]);
    expect((await source().status("bob@example.com", api, NOW)).onCall).toBe(true);
  });

  it("asks by schedule name, flat, with the date in Opsgenie's format", async () => {
    const before = og.calls.length;
    await source().status("alice@example.com", { ...api, schedules: ["api primary"] }, NOW);
    const call = og.calls.slice(before).find((c) => c.path.endsWith("/on-calls"));
    expect(call?.path).toBe("/v2/schedules/api%20primary/on-calls");
    expect(call?.query).toEqual([
      ["scheduleIdentifierType", "name"],
      ["flat", "true"],
      ["date", "2026-12-01T12:00:00Z"],
    ]);
  });

  it("reports a schedule Opsgenie does not have, rather than calling nobody on call", async () => {
    const error = await failure(source().status("alice@example.com", { ...api, schedules: ["nope"] }, NOW));
    expect(error).toMatchObject({ provider: "opsgenie", retryable: false, upstreamCode: "404" });
    expect(error.message).toContain("Schedule with identifier [nope] does not exist");
  });

  it("is neither on call nor assigned for someone Opsgenie does not know", async () => {
    expect(await source().status("nobody@example.com", api, NOW)).toEqual({ onCall: false, incidents: [] });
  });
});

describe("Opsgenie source: incidents", () => {
  it("lists open incidents naming the service with the person as a user responder, across pages", async () => {
    const open = (id: string, services: string[], userIds: string[], team = false) =>
      og.openIncident({
        id,
        message: id,
        impactedServices: services,
        responders: [
          ...userIds.map((userId) => ({ type: "user" as const, id: userId })),
          ...(team ? [{ type: "team" as const, id: "u-alice" }] : []),
        ],
      });
    open("i-1", ["svc-api"], ["u-alice"]);
    open("i-2", ["svc-db", "svc-api"], ["u-bob", "u-alice"]);
    open("i-3", ["svc-api"], ["u-bob"]);
    open("i-4", ["svc-db"], ["u-alice"]);
    open("i-5", ["svc-api"], [], true);
    open("i-6", ["svc-api"], ["u-alice"]);
    og.resolveIncident("i-6");
    const before = og.calls.length;
    const status = await source({ pageSize: 2 }).status("alice@example.com", api, NOW);
    expect([...status.incidents].sort()).toEqual(["i-1", "i-2"]);
    expect(og.calls.slice(before).filter((call) => call.path === "/v1/incidents").length).toBe(3);
  });

  it("says whether an incident is still open on the binding's service", async () => {
    og.openIncident({ id: "i-10", message: "x", impactedServices: ["svc-api"], responders: [] });
    expect(await source().incidentOpen(api, "i-10")).toBe(true);
    expect(await source().incidentOpen({ ...api, service: "svc-db" }, "i-10")).toBe(false);
    og.resolveIncident("i-10");
    expect(await source().incidentOpen(api, "i-10")).toBe(false);
    og.openIncident({ id: "i-11", message: "y", impactedServices: ["svc-api"], responders: [] });
    og.closeIncident("i-11");
    expect(await source().incidentOpen(api, "i-11")).toBe(false);
    expect(await source().incidentOpen(api, "i-none")).toBe(false);
  });
});

describe("Opsgenie source: refusals and outages", () => {
  it("refuses a bad email, binding or incident id before calling Opsgenie", async () => {
    const before = og.calls.length;
    await expect(source().status("alice@exa mple.com", api, NOW)).rejects.toBeInstanceOf(InvalidRequestError);
    const pd: OnCallBinding = { provider: "pagerduty", service: "PSVC", schedules: [] };
    await expect(source().incidentOpen(pd, "i-1")).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(source().incidentOpen(api, "i-1/../x")).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(
      source().status("alice@example.com", { ...api, schedules: ["a/b"] }, NOW),
    ).rejects.toBeInstanceOf(InvalidRequestError);
    expect(og.calls.length).toBe(before);
  });

  it("reports a provider that cannot be reached, a 500, a 429 and a refused key", async () => {
    const down = await failure(source({ apiUrl: await unusedUrl() }).incidentOpen(api, "i-1"));
    expect(down).toBeInstanceOf(OnCallUnavailableError);
    expect(down).toMatchObject({ provider: "opsgenie", retryable: true, upstreamCode: "network" });
    og.injectFault({ kind: "http500", path: "/v1/incidents/{identifier}", times: 1 });
    expect(await failure(source().incidentOpen(api, "i-1"))).toMatchObject({
      retryable: true,
      upstreamCode: "500",
    });
    og.injectFault({
      kind: "ratelimit",
      path: "/v2/schedules/{identifier}/on-calls",
      times: 1,
      periodSeconds: 30,
    });
    const limited = await failure(source().status("alice@example.com", api, NOW));
    expect(limited).toMatchObject({ retryable: true, upstreamCode: "429", retryAfterSeconds: 30 });
    for (const key of [`${KEY}-wrong`, "og-team-key"]) {
      const refused = await failure(source({ apiKey: key }).incidentOpen(api, "i-1"));
      expect(refused).toMatchObject({ retryable: false });
      expect(refused.message).not.toContain(KEY);
      expect(refused.message).not.toContain(key);
    }
  });

  it("gives up on a slow answer after its timeout", async () => {
    og.injectFault({ kind: "delay", path: "/v1/incidents/{identifier}", times: 1, ms: 10_000 });
    const slow = await failure(source({ timeoutMs: 200 }).incidentOpen(api, "i-1"));
    expect(slow).toMatchObject({ retryable: true, upstreamCode: "timeout" });
    expect(slow.message).toBe("Opsgenie: GET /v1/incidents/i-1 did not answer within 200 ms");
  });

  it("reports an answer that is not Opsgenie's envelope", async () => {
    const odd = await startRawServer(200, JSON.stringify({ incident: { id: "i-1", status: "open" } }));
    try {
      const bad = await failure(source({ apiUrl: odd.url }).incidentOpen(api, "i-1"));
      expect(bad).toMatchObject({ retryable: false, upstreamCode: "bad-response" });
    } finally {
      await odd.close();
    }
  });
});
