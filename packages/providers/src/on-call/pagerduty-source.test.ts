import { InvalidRequestError } from "@leasehold/domain";
import { type PagerDutySandbox, startPagerDutySandbox } from "@leasehold/sandbox";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { OnCallBinding } from "./on-call-schemas.js";
import { OnCallUnavailableError } from "./on-call-source.js";
import { createPagerDutySource } from "./pagerduty-source.js";
import { startRawServer, unusedUrl } from "./test-raw-server.js";

const TOKEN = "pd-token-never-in-messages-7f3a";
const NOW = new Date("2026-12-01T12:00:00Z");
const HOUR = 3_600_000;
const at = (hours: number) => new Date(NOW.getTime() + hours * HOUR);
const api: OnCallBinding = { provider: "pagerduty", service: "PSVCAPI", schedules: ["PEPAPI1"] };

let pd: PagerDutySandbox;
const source = (options: { pageSize?: number; timeoutMs?: number; token?: string; apiUrl?: string } = {}) =>
  createPagerDutySource({ apiUrl: pd.url, token: TOKEN, ...options });

/** The error a call fails with (the test fails if it resolves). */
const failure = async (promise: Promise<unknown>): Promise<Error> => {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  if (outcome === undefined) throw new Error("expected the call to fail");
  return outcome;
};

beforeAll(async () => {
  pd = await startPagerDutySandbox({
    token: TOKEN,
    bearerTokens: ["oauth-token-1"],
    clock: () => NOW,
    // Three users match a query for "al@example.com"; the exact one comes last.
    users: [
      { id: "PSAL001", name: "Sal", email: "sal@example.com" },
      { id: "PVAL001", name: "Val", email: "val@example.com" },
      { id: "PAL0001", name: "Al", email: "al@example.com" },
      { id: "PBOB001", name: "Bob", email: "bob@example.com" },
    ],
    escalationPolicies: [
      { id: "PEPAPI1", name: "API" },
      { id: "PEPDB01", name: "DB" },
    ],
    services: [
      { id: "PSVCAPI", name: "api", escalationPolicyId: "PEPAPI1" },
      { id: "PSVCDB1", name: "db", escalationPolicyId: "PEPDB01" },
    ],
    oncalls: [],
    incidents: [],
  });
});
afterAll(async () => {
  await pd.close();
});
beforeEach(() => {
  pd.setOnCalls([
    { userId: "PAL0001", escalationPolicyId: "PEPAPI1", level: 1, start: at(-2), end: at(2) },
    { userId: "PAL0001", escalationPolicyId: "PEPAPI1", level: 2, start: null, end: null },
    { userId: "PBOB001", escalationPolicyId: "PEPAPI1", start: at(2), end: at(6) },
    { userId: "PBOB001", escalationPolicyId: "PEPDB01", start: at(-1), end: at(1) },
  ]);
});

describe("PagerDuty source: on call", () => {
  it("is on call when PagerDuty lists the person on one of the binding's escalation policies at that time", async () => {
    expect((await source().status("al@example.com", api, NOW)).onCall).toBe(true);
    expect((await source().status("bob@example.com", api, NOW)).onCall).toBe(false);
    expect((await source().status("bob@example.com", api, at(3))).onCall).toBe(true);
    const db: OnCallBinding = { ...api, schedules: ["PEPDB01"] };
    expect((await source().status("bob@example.com", db, NOW)).onCall).toBe(true);
  });

  it("matches the email exactly, ignoring case, across pages of users", async () => {
    pd.setOnCalls([{ userId: "PAL0001", escalationPolicyId: "PEPAPI1" }]);
    const before = pd.calls.length;
    expect((await source({ pageSize: 1 }).status("AL@example.com", api, NOW)).onCall).toBe(true);
    const userPages = pd.calls.slice(before).filter((call) => call.path === "/users");
    expect(userPages.map((call) => call.query.find(([name]) => name === "offset")?.[1])).toEqual([
      "0",
      "1",
      "2",
    ]);
  });

  it("follows `more` through every page of on-call entries", async () => {
    const before = pd.calls.length;
    await source({ pageSize: 1 }).status("al@example.com", api, NOW);
    expect(pd.calls.slice(before).filter((call) => call.path === "/oncalls")).toHaveLength(2);
  });

  it("is neither on call nor assigned for someone PagerDuty does not know", async () => {
    expect(await source().status("nobody@example.com", api, NOW)).toEqual({ onCall: false, incidents: [] });
  });

  it("asks nothing about on-call when the binding has no escalation policies", async () => {
    const before = pd.calls.length;
    const status = await source().status("al@example.com", { ...api, schedules: [] }, NOW);
    expect(status.onCall).toBe(false);
    expect(pd.calls.slice(before).some((call) => call.path === "/oncalls")).toBe(false);
  });

  it("works with an OAuth token", async () => {
    const oauth = createPagerDutySource({ apiUrl: pd.url, token: "oauth-token-1", tokenType: "bearer" });
    expect((await oauth.status("al@example.com", api, NOW)).onCall).toBe(true);
  });
});

describe("PagerDuty source: incidents", () => {
  it("lists open incidents on the service assigned to the person, across pages, old ones included", async () => {
    pd.triggerIncident({ id: "PA1", title: "a", serviceId: "PSVCAPI", assigneeIds: ["PAL0001"] });
    pd.triggerIncident({ id: "PA2", title: "b", serviceId: "PSVCAPI", assigneeIds: ["PAL0001", "PBOB001"] });
    pd.triggerIncident({ id: "PA3", title: "c", serviceId: "PSVCAPI", assigneeIds: ["PBOB001"] });
    pd.triggerIncident({ id: "PA4", title: "d", serviceId: "PSVCDB1", assigneeIds: ["PAL0001"] });
    pd.triggerIncident({ id: "PA5", title: "e", serviceId: "PSVCAPI", assigneeIds: ["PAL0001"] });
    pd.acknowledgeIncident("PA5");
    const old = pd.incident("PA1");
    if (old !== undefined) old.createdAt = at(-24 * 45);
    const status = await source({ pageSize: 1 }).status("al@example.com", api, NOW);
    expect([...status.incidents].sort()).toEqual(["PA1", "PA2", "PA5"]);
    pd.resolveIncident("PA2");
    expect([...(await source().status("al@example.com", api, NOW)).incidents].sort()).toEqual(["PA1", "PA5"]);
  });

  it("says whether an incident is still open on the binding's service", async () => {
    pd.triggerIncident({ id: "PB1", title: "x", serviceId: "PSVCAPI", assigneeIds: ["PBOB001"] });
    expect(await source().incidentOpen(api, "PB1")).toBe(true);
    expect(await source().incidentOpen({ ...api, service: "PSVCDB1" }, "PB1")).toBe(false);
    pd.acknowledgeIncident("PB1");
    expect(await source().incidentOpen(api, "PB1")).toBe(true);
    pd.resolveIncident("PB1");
    expect(await source().incidentOpen(api, "PB1")).toBe(false);
    expect(await source().incidentOpen(api, "PNOSUCH")).toBe(false);
  });
});

describe("PagerDuty source: refusals and outages", () => {
  it("refuses a bad email, binding or incident id before calling PagerDuty", async () => {
    const before = pd.calls.length;
    await expect(source().status("not an email", api, NOW)).rejects.toBeInstanceOf(InvalidRequestError);
    const opsgenie: OnCallBinding = { provider: "opsgenie", service: "svc", schedules: [] };
    await expect(source().status("al@example.com", opsgenie, NOW)).rejects.toBeInstanceOf(
      InvalidRequestError,
    );
    await expect(source().incidentOpen(api, "../users")).rejects.toBeInstanceOf(InvalidRequestError);
    expect(pd.calls.length).toBe(before);
  });

  it("reports a provider that cannot be reached", async () => {
    const error = await failure(source({ apiUrl: await unusedUrl() }).status("al@example.com", api, NOW));
    expect(error).toBeInstanceOf(OnCallUnavailableError);
    expect(error).toMatchObject({ provider: "pagerduty", retryable: true });
    expect(error.message).toMatch(/^PagerDuty: could not be reached \(ECONNREFUSED\)/);
  });

  it("reports a 500 as retryable and a refused token as not, never showing the token", async () => {
    pd.injectFault({ kind: "http500", path: "/oncalls", times: 1 });
    const down = await failure(source().status("al@example.com", api, NOW));
    expect(down).toMatchObject({ retryable: true, upstreamCode: "500" });
    expect(down.message).toBe("PagerDuty: GET /oncalls answered 500: Internal Server Error");
    const refused = await failure(source({ token: `${TOKEN}-wrong` }).incidentOpen(api, "PB1"));
    expect(refused).toMatchObject({ retryable: false, upstreamCode: "401" });
    expect(refused.message).not.toContain(TOKEN);
  });

  it("reports a 429 with PagerDuty's reset hint, and without one", async () => {
    pd.injectFault({ kind: "ratelimit", path: "/users", times: 1, resetSeconds: 17 });
    const limited = await failure(source().status("al@example.com", api, NOW));
    expect(limited).toMatchObject({ retryable: true, upstreamCode: "429", retryAfterSeconds: 17 });
    pd.injectFault({ kind: "ratelimit", path: "/incidents/{id}", times: 1, bare: true });
    const bare = await failure(source().incidentOpen(api, "PB1"));
    expect(bare).toMatchObject({ retryable: true, upstreamCode: "429", retryAfterSeconds: undefined });
  });

  it("gives up on a slow answer after its timeout", async () => {
    pd.injectFault({ kind: "delay", path: "/incidents/{id}", times: 1, ms: 10_000 });
    const slow = await failure(source({ timeoutMs: 200 }).incidentOpen(api, "PB1"));
    expect(slow).toMatchObject({ retryable: true, upstreamCode: "timeout" });
    expect(slow.message).toBe("PagerDuty: GET /incidents/PB1 did not answer within 200 ms");
  });

  it("reports an answer that is not PagerDuty's shape, or far too large", async () => {
    const odd = await startRawServer(200, JSON.stringify({ incident: { id: "PB1", status: 7 } }));
    const huge = await startRawServer(200, JSON.stringify({ users: [], pad: "x".repeat(3 * 1024 * 1024) }));
    try {
      const bad = await failure(source({ apiUrl: odd.url }).incidentOpen(api, "PB1"));
      expect(bad).toMatchObject({ retryable: false, upstreamCode: "bad-response" });
      const big = await failure(source({ apiUrl: huge.url }).status("al@example.com", api, NOW));
      expect(big).toMatchObject({ upstreamCode: "response-too-large" });
    } finally {
      await odd.close();
      await huge.close();
    }
  });
});
