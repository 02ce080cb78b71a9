import type { Target } from "@leasehold/domain";
import { policyEngineFor } from "@leasehold/policy";
import { awsRoleTargetSchema, createPagerDutySource, type OnCallSource } from "@leasehold/providers";
import { type PagerDutySandbox, startPagerDutySandbox } from "@leasehold/sandbox";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Broker, createBroker } from "./broker.js";
import { targetCatalog } from "./broker-deps.js";
import { createHarness, HARNESS_ADMINS, type Harness, person, ROLE_ARN, willing } from "./test-harness.js";

/*
 * Approval by policy end to end: the real PagerDuty client against the PagerDuty stand-in, the
 * translated AutoApprove policies, real PostgreSQL. On call → approved by policy and audited as such;
 * not on call → people approve; PagerDuty down → people approve, and the requester is told; the daily
 * allowance; an incident-bound grant ends when its incident resolves (polled by the sweep).
 */

const TOKEN = "pd-key-not-in-any-message-1b9e";
const oncaller = person("al@example.com", ["engineering"]);
const bystander = person("bo@example.com", ["engineering"]);
/** On call too, with a daily allowance of their own (the allowance is per person and target). */
const busy = person("cy@example.com", ["engineering"]);
const responder = person("di@example.com", ["engineering"]);
const second = person("ed@example.com", ["engineering"]);

const target: Target = awsRoleTargetSchema.parse({
  id: "payments-prod",
  kind: "aws-role",
  requesters: { groups: ["engineering"] },
  approvers: { groups: ["sre"] },
  maxDuration: "2h",
  aws: { roleArn: ROLE_ARN },
  onCall: { provider: "pagerduty", service: "PSVCPAY", schedules: ["PEPPAY1"] },
  autoApprove: { onCall: true, incidents: true, maxPerDay: 2 },
});

let pd: PagerDutySandbox;
let h: Harness;
let broker: Broker;

const brokerWith = (onCall: OnCallSource) =>
  createBroker({
    ...h.deps,
    targets: targetCatalog([target]),
    policy: policyEngineFor({ targets: [target], admins: HARNESS_ADMINS }),
    onCall,
  });

const ask = (b: Broker, who = oncaller) =>
  b.requests.create(who, { targetId: target.id, reason: "INC-7 payments failing", durationSeconds: 1800 });

const eventsOf = (subjectId: string) =>
  h.deps.store.read((repos) => repos.audit.list({ afterSeq: 0, limit: 1000, subjectId }));

beforeAll(async () => {
  pd = await startPagerDutySandbox({
    token: TOKEN,
    users: [
      { id: "PAL0001", name: "Al", email: oncaller.id },
      { id: "PBO0001", name: "Bo", email: bystander.id },
      { id: "PCY0001", name: "Cy", email: busy.id },
      { id: "PDI0001", name: "Di", email: responder.id },
      { id: "PED0001", name: "Ed", email: second.id },
    ],
    escalationPolicies: [{ id: "PEPPAY1", name: "payments" }],
    services: [{ id: "PSVCPAY", name: "payments", escalationPolicyId: "PEPPAY1" }],
    oncalls: [],
    incidents: [],
  });
  h = await createHarness("postgres", willing, { targets: [target] });
  broker = brokerWith(createPagerDutySource({ apiUrl: pd.url, token: TOKEN }));
});
afterAll(async () => {
  await h?.close();
  await pd?.close();
});
beforeEach(() => {
  pd.setOnCalls(
    ["PAL0001", "PCY0001"].map((userId) => ({
      userId,
      escalationPolicyId: "PEPPAY1",
      level: 1,
      start: null,
      end: null,
    })),
  );
});

describe("approval by policy", () => {
  it("approves someone on call at once, audited as the policy, with a grant to issue", async () => {
    const created = await ask(broker);
    expect(created.request.state).toBe("approved");
    expect(created.autoApproval).toMatchObject({
      outcome: "approved",
      policies: ["target/payments-prod/auto-approve/on-call"],
    });
    const events = await eventsOf(created.request.id);
    const approved = events.find((e) => e.action === "request.approved");
    expect(approved).toMatchObject({
      actor: "policy:target/payments-prod/auto-approve/on-call",
      data: { approvers: [], policies: ["target/payments-prod/auto-approve/on-call"] },
    });
    const grant = await h.deps.store.read((repos) => repos.grants.findByRequestId(created.request.id));
    expect(grant?.state).toBe("issuing");
    expect(h.enqueued).toContainEqual({ queue: "issue", grantId: grant?.id });
  });

  it("leaves someone not on call to the approvers", async () => {
    const created = await ask(broker, bystander);
    expect(created.request.state).toBe("pending");
    expect(created.autoApproval).toBeNull();
    // A person approves as ever.
    await broker.requests.cancel(bystander, created.request.id);
  });

  it("falls back to the approvers when PagerDuty cannot answer, and says so without the key", async () => {
    // Nothing listens on the port: PagerDuty is unreachable.
    const down = brokerWith(
      createPagerDutySource({ apiUrl: "http://127.0.0.1:9", token: TOKEN, timeoutMs: 500 }),
    );
    const created = await ask(down);
    expect(created.request.state).toBe("pending");
    expect(created.autoApproval?.outcome).toBe("unavailable");
    expect(created.autoApproval?.message).toMatch(/PagerDuty.*waits for approvers/);
    expect(JSON.stringify(created)).not.toContain(TOKEN);
    await broker.requests.cancel(oncaller, created.request.id);
  });

  it("falls back to the approvers when PagerDuty answers with errors", async () => {
    pd.injectFault({ kind: "http500", path: "/users", times: 1 });
    const created = await ask(broker, bystander);
    expect(created.autoApproval?.message).toMatch(/PagerDuty.*waits for approvers/);
    await broker.requests.cancel(bystander, created.request.id);
  });

  it("approves at most maxPerDay per person and target; then people approve", async () => {
    const outcomes: (string | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await ask(broker, busy);
      outcomes.push(created.autoApproval?.outcome);
    }
    expect(outcomes).toEqual(["approved", "approved", "rate-limited"]);
  });

  it("a grant resting on an incident alone ends when the incident resolves (the sweep asks PagerDuty)", async () => {
    pd.triggerIncident({
      id: "PINC001",
      title: "payments down",
      serviceId: "PSVCPAY",
      assigneeIds: ["PDI0001"],
    });
    const created = await ask(broker, responder);
    expect(created.autoApproval?.policies).toEqual(["target/payments-prod/auto-approve/incident"]);
    const grant = await h.deps.store.read((repos) => repos.grants.findByRequestId(created.request.id));
    if (!grant) throw new Error("expected a grant");
    await broker.grants.issue(grant.id, { isLast: true });

    // Still open: the sweep leaves it alone.
    expect((await broker.reconcile.run()).incidentGrantsEnded).toBe(0);
    pd.resolveIncident("PINC001");
    expect((await broker.reconcile.run()).incidentGrantsEnded).toBe(1);
    const ended = await h.deps.store.read((repos) => repos.grants.findById(grant.id));
    expect(ended?.state).toBe("revoking");
    expect(h.enqueued).toContainEqual({ queue: "revoke", grantId: grant.id });
    const events = await eventsOf(grant.id);
    expect(events.at(-1)).toMatchObject({ actor: "system:incident", action: "grant.revoke_requested" });
  });

  it("a webhook about an incident ends its grants only once PagerDuty says it is no longer open", async () => {
    pd.triggerIncident({ id: "PINC002", title: "db down", serviceId: "PSVCPAY", assigneeIds: ["PED0001"] });
    const created = await ask(broker, second);
    const grant = await h.deps.store.read((repos) => repos.grants.findByRequestId(created.request.id));
    if (!grant) throw new Error("expected a grant");
    await broker.grants.issue(grant.id, { isLast: true });
    // A replayed or forged "resolved" while the incident is open ends nothing.
    expect(await broker.grants.incidentResolved("pagerduty", "PINC002")).toBe(0);
    pd.resolveIncident("PINC002");
    expect(await broker.grants.incidentResolved("pagerduty", "PINC002")).toBe(1);
    expect((await h.deps.store.read((repos) => repos.grants.findById(grant.id)))?.state).toBe("revoking");
  });

  it("approves inside a pre-approval window an approver opened, and not after it is revoked", async () => {
    const lead = person("lead@example.com", ["sre"]);
    const window = await broker.preApprovals.create(lead, {
      principalId: bystander.id,
      targetId: target.id,
      endsAt: new Date(h.clock.now.getTime() + 3_600_000),
      reason: "maintenance night CHG-9",
    });
    const inside = await ask(broker, bystander);
    expect(inside.autoApproval).toMatchObject({ outcome: "approved", policies: ["builtin/pre-approved"] });
    await broker.preApprovals.revoke(lead, window.id);
    const after = await ask(broker, bystander);
    expect(after.request.state).toBe("pending");
    await broker.requests.cancel(bystander, after.request.id);
  });
});
