import type { Alert, DirectMessage, MessageRef, RequestCard } from "@leasehold/domain";
import { UpstreamError } from "@leasehold/domain";
import { awsRoleTargetSchema, type CredentialProvider } from "@leasehold/providers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Messenger } from "./messenger.js";
import { createNotificationService, type NotificationService } from "./notification-service.js";
import {
  approve,
  approverA,
  approverB,
  approverC,
  createHarness,
  type Harness,
  prodTarget,
  requester,
} from "./test-harness.js";

const APPROVERS = "C0APPROVERS";
const ALERTS = "C0ALERTS";
const target = awsRoleTargetSchema.parse({
  id: prodTarget.id,
  kind: "aws-role",
  requesters: { groups: ["engineering", "sre"] },
  approvers: { groups: ["sre"] },
  requiredApprovals: 2,
  maxDuration: "2h",
  slack: { approversChannel: APPROVERS },
  aws: { roleArn: "arn:aws:iam::123456789012:role/ProdReadOnly" },
});
/** The same with one approval per request: where a pre-approval window may stand for it. */
const single = { ...target, id: "prod-single", requiredApprovals: 1 };

/** Issuing always fails for good, so a grant ends in `grant.issue_failed`. */
const refusingProvider: CredentialProvider = {
  kind: "aws-role",
  issue: () => Promise.reject(new UpstreamError("STS AssumeRole failed: AccessDenied", { retryable: false })),
  discardEarlierAttempts: async () => {},
  revoke: async () => {},
  expire: async () => {},
  release: async () => {},
  needsRelease: () => false,
};

type Sent =
  | { to: "post"; channel: string; card: RequestCard }
  | { to: "update"; message: MessageRef; card: RequestCard }
  | { to: "dm"; principalId: string; message: DirectMessage }
  | { to: "alert"; channel: string; alert: Alert };

describe("deciding notifications from the audit trail", () => {
  let h: Harness;
  let sent: Sent[];
  let queued: { seq: number; after: number | undefined }[];
  let notifications: NotificationService;

  beforeAll(async () => {
    h = await createHarness("pglite", refusingProvider, { targets: [target, single] });
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(() => {
    sent = [];
    queued = [];
    const messenger: Messenger = {
      postRequestCard: async (channel, card) => {
        sent.push({ to: "post", channel, card });
        return { channel, ts: `${sent.length}.000` };
      },
      updateRequestCard: async (message, card) => {
        sent.push({ to: "update", message, card });
      },
      // Break-glass broadcasts are tested through the Slack stand-in (apps/worker's break-glass-notices.test.ts).
      postBreakGlassCard: () => Promise.reject(new Error("no break-glass in these tests")),
      updateBreakGlassCard: () => Promise.reject(new Error("no break-glass in these tests")),
      directMessage: async (principalId, message) => {
        sent.push({ to: "dm", principalId, message });
        return "sent";
      },
      alert: async (channel, alert) => {
        sent.push({ to: "alert", channel, alert });
      },
    };
    notifications = createNotificationService({
      store: h.deps.store,
      targets: h.deps.targets,
      messenger,
      queue: {
        deliver: async (seq, after) => {
          queued.push({ seq, after });
        },
        remindAt: async () => {},
      },
      alertsChannel: ALERTS,
      clock: h.deps.clock,
      log: h.deps.log,
    });
  });

  const ask = (who = requester) =>
    h.broker.requests.create(who, { targetId: target.id, reason: "notify me", durationSeconds: 900 });
  const deliverAll = async () => {
    for (const { seq } of queued.splice(0)) await notifications.deliver(seq);
  };

  it("chains each person's deliveries in audit order, across dispatches, and leaves others free", async () => {
    const mine = await ask();
    const carols = await ask(approverC);
    await notifications.dispatch();
    const [myCreated, carolsCreated] = queued;
    expect(myCreated?.after).toBeUndefined();
    expect(carolsCreated?.after).toBeUndefined();

    queued = [];
    await approve(h.broker, approverA, mine.request.id);
    await approve(h.broker, approverB, mine.request.id);
    await h.broker.requests.cancel(approverC, carols.request.id);
    await notifications.dispatch();
    // Mine: two reviews, approved (grant.created is not notified); Carol's: cancelled.
    const [firstReview, secondReview, approved, cancelled] = queued;
    expect(queued).toHaveLength(4);
    expect(firstReview?.after).toBe(myCreated?.seq);
    expect(secondReview?.after).toBe(firstReview?.seq);
    expect(approved?.after).toBe(secondReview?.seq);
    expect(cancelled?.after).toBe(carolsCreated?.seq);
  });

  it("posts the card once, then edits it, and tells the requester who approved", async () => {
    const { request } = await ask();
    await notifications.dispatch();
    await deliverAll();
    await approve(h.broker, approverA, request.id);
    await approve(h.broker, approverB, request.id);
    await notifications.dispatch();
    await deliverAll();
    expect(sent.map((s) => s.to)).toEqual(["post", "update", "update", "update", "dm"]);
    expect(sent[4]).toMatchObject({
      principalId: requester.id,
      message: { kind: "decision", outcome: "approved", by: [approverA.id, approverB.id] },
    });
  });

  it("a grant that could not be issued is reported to its holder with the recorded reason", async () => {
    const { request } = await ask();
    await approve(h.broker, approverA, request.id);
    const { grant } = await approve(h.broker, approverB, request.id);
    if (!grant) throw new Error("the second approval creates the grant");
    await h.broker.grants.issue(grant.id, { isLast: true, signal: undefined }).catch(() => undefined);
    await notifications.dispatch();
    sent = [];
    await deliverAll();
    expect(sent.filter((s) => s.to === "dm").at(-1)).toMatchObject({
      principalId: requester.id,
      message: { kind: "ended", how: "failed", detail: "STS AssumeRole failed: AccessDenied" },
    });
  });

  it("a failed rotation is an alert with the fields its audit event recorded", async () => {
    const event = await h.deps.store.transaction((r) =>
      r.audit.append(
        {
          actor: "system:worker",
          action: "rotation.failed",
          subjectType: "rotation",
          subjectId: "00000000-0000-4000-8000-000000000001",
          data: { rotation: "orders-app", step: "test", error: "no login", rolledBack: false },
        },
        h.deps.clock(),
      ),
    );
    await notifications.deliver(event.seq);
    expect(sent).toEqual([
      {
        to: "alert",
        channel: ALERTS,
        alert: {
          kind: "rotation-failed",
          rotationId: "orders-app",
          step: "test",
          error: "no login",
          rolledBack: false,
        },
      },
    ]);
  });

  it("a role whose revocation budget ran out is an alert naming the role", async () => {
    const role = "arn:aws:iam::123456789012:role/ProdReadOnly";
    const event = await h.deps.store.transaction((r) =>
      r.audit.append(
        {
          actor: "system:worker",
          action: "revocation.cutoff",
          subjectType: "revocation",
          subjectId: role,
          data: { role, cutoffAt: "2026-12-05T11:58:00.000Z", revocations: 300, kept: 2, ended: 0 },
        },
        h.deps.clock(),
      ),
    );
    await notifications.deliver(event.seq);
    expect(sent).toEqual([
      {
        to: "alert",
        channel: ALERTS,
        alert: {
          kind: "revocation-cutoff",
          role,
          cutoffAt: new Date("2026-12-05T11:58:00.000Z"),
          revocations: 300,
          kept: 2,
          ended: 0,
        },
      },
    ]);
  });

  it("a new pre-approval window is posted once to the approvers' and the alerts channel, in its person's lane", async () => {
    const window = {
      principalId: requester.id,
      targetId: single.id,
      startsAt: new Date(h.clock.now.getTime() + 3_600_000),
      endsAt: new Date(h.clock.now.getTime() + 7_200_000),
      reason: "maintenance night",
    };
    // Earlier tests' events first, so what follows queues only this test's.
    await notifications.dispatch();
    const created = await h.broker.preApprovals.create(approverA, window);
    queued = [];
    await notifications.dispatch();
    const [delivery] = queued;
    const mine = await ask();
    await notifications.dispatch();
    // The person's next request waits for the window's post: its lane is theirs.
    expect(queued).toHaveLength(2);
    expect(queued[1]?.after).toBe(delivery?.seq);
    queued.splice(1);
    await deliverAll();
    const alert = {
      kind: "pre-approval",
      preApprovalId: created.id,
      targetId: single.id,
      principalId: requester.id,
      approverId: approverA.id,
      startsAt: window.startsAt,
      endsAt: window.endsAt,
      reason: "maintenance night",
    };
    expect(sent).toEqual([
      { to: "alert", channel: APPROVERS, alert },
      { to: "alert", channel: ALERTS, alert },
    ]);
    await h.broker.requests.cancel(requester, mine.request.id);
  });

  it("a window revoked before its post is delivered is not announced", async () => {
    await notifications.dispatch();
    const created = await h.broker.preApprovals.create(approverA, {
      principalId: requester.id,
      targetId: single.id,
      endsAt: new Date(h.clock.now.getTime() + 3_600_000),
      reason: "changed my mind",
    });
    await h.broker.preApprovals.revoke(approverA, created.id);
    queued = [];
    await notifications.dispatch();
    // Only the creation is notified; its delivery finds the window withdrawn.
    expect(queued).toHaveLength(1);
    await deliverAll();
    expect(sent).toEqual([]);
  });
});
