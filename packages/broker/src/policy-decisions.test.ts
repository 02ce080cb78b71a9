import { ForbiddenError } from "@leasehold/domain";
import { createPolicyEngine, translateConfig } from "@leasehold/policy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, createBroker } from "./broker.js";
import {
  approve,
  approverA,
  approverB,
  askForProd,
  createHarness,
  HARNESS_ADMINS,
  type Harness,
  prodTarget,
  requester,
  willing,
} from "./test-harness.js";

/*
 * Policy files beside leasehold.yaml, through the use cases on real PostgreSQL: a forbid refuses with
 * its advice and its id and records nothing; what is allowed records the policies that allowed it.
 */

const POLICIES = `
@id("short-requests")
@advice("prod-readonly is requested for at most 50 minutes at a time")
forbid (principal, action == Leasehold::Action::"Request", resource == Leasehold::Target::"prod-readonly")
when { context.request.durationSeconds > 3000 };

@id("extend-in-small-steps")
@advice("extend by at most 30 minutes at a time")
forbid (principal, action == Leasehold::Action::"Extend", resource)
when { context.extendBySeconds > 1800 };

@id("no-self-approval-by-policy")
permit (principal, action == Leasehold::Action::"Approve", resource)
when { principal in Leasehold::Group::"engineering" };
`;

let h: Harness;
let broker: Broker;

beforeAll(async () => {
  h = await createHarness("postgres", willing);
  broker = createBroker({
    ...h.deps,
    policy: createPolicyEngine([
      translateConfig({ targets: [prodTarget], admins: HARNESS_ADMINS }),
      { file: "rules.cedar", text: POLICIES },
    ]),
  });
});
afterAll(() => h?.close());

const trailLength = async () =>
  (await h.deps.store.read((r) => r.audit.list({ afterSeq: 0, limit: 10_000 }))).length;

describe("policy files through the use cases", () => {
  it("a forbid refuses a request with its advice and its id, and records nothing", async () => {
    const before = await trailLength();
    const refused = await askForProd(broker, { durationSeconds: 3600 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ForbiddenError);
    expect((refused as Error).message).toBe(
      "you may not request prod-readonly: prod-readonly is requested for at most 50 minutes at a time (policy short-requests)",
    );
    expect(await trailLength()).toBe(before);
  });

  it("records the policies that allowed a request and each review", async () => {
    const { request } = await askForProd(broker, { durationSeconds: 1800 });
    await approve(broker, approverA, request.id);
    const events = await h.deps.store.read((r) =>
      r.audit.list({ afterSeq: 0, limit: 10_000, subjectId: request.id }),
    );
    expect(events.find((e) => e.action === "request.created")?.data).toMatchObject({
      policies: ["target/prod-readonly/requesters"],
    });
    expect(events.find((e) => e.action === "request.reviewed")?.data).toMatchObject({
      policies: expect.arrayContaining(["target/prod-readonly/approvers"]),
    });
    await broker.requests.cancel(requester, request.id);
  });

  it("a requester in a group a permit lets approve still cannot approve their own request", async () => {
    const { request } = await askForProd(broker, { durationSeconds: 1800 });
    await expect(approve(broker, requester, request.id)).rejects.toThrow(
      /you cannot review your own request/,
    );
    await broker.requests.cancel(requester, request.id);
  });

  it("a forbid on Extend refuses a long extension and lets a short one through", async () => {
    const { request } = await askForProd(broker, { durationSeconds: 1800 });
    await approve(broker, approverA, request.id);
    const { grant } = await approve(broker, approverB, request.id);
    if (!grant) throw new Error("expected a grant");
    await broker.grants.issue(grant.id, { isLast: true });
    await expect(
      broker.grants.extend(requester, { grantId: grant.id, extendBySeconds: 3600 }),
    ).rejects.toThrow(
      "you may not extend prod-readonly now: extend by at most 30 minutes at a time (policy extend-in-small-steps)",
    );
    const extended = await broker.grants.extend(requester, { grantId: grant.id, extendBySeconds: 600 });
    expect(extended.durationSeconds).toBe(grant.durationSeconds + 600);
  });
});
