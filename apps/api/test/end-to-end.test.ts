import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { type AwsSandbox, type OidcIssuer, startAwsSandbox, startOidcIssuer } from "@leasehold/sandbox";
import { PEOPLE, queueBackends, ROLE_ARN, TEST_CONFIG, tokenFor } from "@leasehold/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Stack, startStack } from "./stack.js";

/**
 * The whole slice as a user meets it: the API and the worker as real processes on real PostgreSQL
 * and, on each queue backend, their queues in Redis or in that PostgreSQL; the AWS SDK against the
 * STS/IAM stand-in, tokens from a test OIDC issuer.
 *
 * STS's shortest session is 900 s. To watch one expire without waiting 15 minutes, the stand-in
 * issues sessions already 890 s old: the grant's deadline (the session's Expiration) is ~10 s away.
 */
const SESSION_AGE_ON_ISSUE = 890;

describe.each(queueBackends)(
  "request → approve → STS session → retrieve → expire, end to end (%s queues)",
  (queueBackend) => {
    let sandbox: AwsSandbox;
    let issuer: OidcIssuer;
    let stack: Stack;

    beforeAll(async () => {
      sandbox = await startAwsSandbox({
        roles: [{ arn: ROLE_ARN, maxSessionDurationSeconds: 3600 }],
        sessionAgeOnIssueSeconds: SESSION_AGE_ON_ISSUE,
      });
      issuer = await startOidcIssuer();
      stack = await startStack({ sandbox, issuerUrl: issuer.url, config: TEST_CONFIG, queueBackend });
    }, 90_000);
    afterAll(async () => {
      await stack?.stop();
      await issuer?.close();
      await sandbox?.close();
    });

    it("issues a tagged session after two approvals, delivers it to the requester only, and expires it on time", async () => {
      const as = async (who: keyof typeof PEOPLE) => stack.client(await tokenFor(issuer, who));
      const dev = await as("dev");
      const alice = await as("alice");
      const bob = await as("bob");
      const mallory = await as("mallory");
      const sec = await as("sec");

      expect((await dev.targets.list.query()).map((t) => t.id)).toEqual(["prod-readonly"]);

      const request = await dev.requests.create.mutate({
        targetId: "prod-readonly",
        durationSeconds: 900,
        reason: "investigate INC-42: elevated 5xx",
        ticket: "OPS-42",
      });
      expect(request).toMatchObject({ state: "pending", approvalsNeeded: 2 });

      // The requester cannot approve; someone outside the approver group cannot either.
      await expect(dev.reviews.submit.mutate({ requestId: request.id, decision: "approve" })).rejects.toThrow(
        /your own request/,
      );
      await expect(
        mallory.reviews.submit.mutate({ requestId: request.id, decision: "approve" }),
      ).rejects.toThrow(/not an approver/);

      const first = await alice.reviews.submit.mutate({ requestId: request.id, decision: "approve" });
      expect(first).toMatchObject({ request: { state: "pending", approvalsNeeded: 1 }, grantId: null });
      await expect(
        alice.reviews.submit.mutate({ requestId: request.id, decision: "approve" }),
      ).rejects.toThrow(/already reviewed/);

      const second = await bob.reviews.submit.mutate({ requestId: request.id, decision: "approve" });
      expect(second.request).toMatchObject({
        state: "approved",
        approvals: [PEOPLE.alice.email, PEOPLE.bob.email],
      });
      const grantId = second.grantId ?? "";

      const active = await eventually(
        async () => {
          const grant = await dev.grants.get.query({ grantId });
          return grant.state === "active" ? grant : undefined;
        },
        20_000,
        "the worker to issue the grant",
      );

      // The stand-in saw exactly one AssumeRole, with the requester's identity and the approval as tags.
      expect(sandbox.issued).toHaveLength(1);
      const session = sandbox.issued[0];
      expect(session).toMatchObject({
        roleArn: ROLE_ARN,
        roleSessionName: `lh-${grantId}-a1`,
        sourceIdentity: PEOPLE.dev.email,
        durationSeconds: 900,
        tags: {
          "lh-request": request.id,
          "lh-grant": grantId,
          "lh-requester": PEOPLE.dev.email,
          "lh-approvers": `${PEOPLE.alice.email} ${PEOPLE.bob.email}`,
          "lh-ticket": "OPS-42",
          environment: "production",
        },
      });
      expect(active.expiresAt).toBe(session?.expiration.toISOString());

      // Only the requester gets the credentials; they work with the real SDK.
      await expect(mallory.grants.credentials.mutate({ grantId })).rejects.toThrow(/only the principal/);
      await expect(sec.grants.credentials.mutate({ grantId })).rejects.toThrow(/only the principal/);
      const creds = await dev.grants.credentials.mutate({ grantId });
      if (creds.credential.kind !== "aws-session") throw new Error("expected an AWS session");
      expect(creds.credential.accessKeyId).toBe(session?.accessKeyId);
      const whoami = await new STSClient({
        region: "us-east-1",
        endpoint: sandbox.url,
        credentials: {
          accessKeyId: creds.credential.accessKeyId ?? "",
          secretAccessKey: creds.credential.secretAccessKey ?? "",
          sessionToken: creds.credential.sessionToken ?? "",
        },
      }).send(new GetCallerIdentityCommand({}));
      expect(whoami.Arn).toBe(session?.assumedRoleArn);

      // The grant expires at its deadline: not before, and then the credentials are gone.
      const deadline = new Date(active.expiresAt ?? "");
      expect((await dev.grants.get.query({ grantId })).state).toBe("active");
      const expired = await eventually(
        async () => {
          const grant = await dev.grants.get.query({ grantId });
          return grant.state === "expired" ? grant : undefined;
        },
        30_000,
        "the grant to expire",
      );
      expect(new Date(expired.endedAt ?? "").getTime()).toBeGreaterThanOrEqual(deadline.getTime());
      await expect(dev.grants.credentials.mutate({ grantId })).rejects.toThrow(/expired/);
      const stored = await stack.db.query<{ credential: unknown }>(
        "SELECT credential FROM grants WHERE id = $1",
        [grantId],
      );
      expect(stored).toEqual([{ credential: null }]);

      // Every step is in the audit trail, and the chain verifies.
      const events = await sec.audit.list.query({ afterSeq: 0, limit: 500 });
      const story = events
        .filter((e) => e.subjectId === request.id || e.subjectId === grantId)
        .map((e) => `${e.action} by ${e.actor}`);
      expect(story).toEqual([
        `request.created by ${PEOPLE.dev.email}`,
        `request.reviewed by ${PEOPLE.alice.email}`,
        `request.reviewed by ${PEOPLE.bob.email}`,
        `request.approved by ${PEOPLE.bob.email}`,
        `grant.created by ${PEOPLE.bob.email}`,
        "grant.issued by system:worker",
        `grant.credentials_read by ${PEOPLE.dev.email}`,
        "grant.expired by system:worker",
      ]);
      await expect(dev.audit.verify.query()).rejects.toThrow(/only admins/);
      expect(await sec.audit.verify.query()).toMatchObject({ ok: true, problems: [] });

      // The secret never reached a log line or the audit trail (and the logs did record the delivery).
      expect(stack.output()).toContain("credentials delivered");
      for (const secret of [creds.credential.secretAccessKey ?? "", creds.credential.sessionToken ?? ""]) {
        expect(secret.length).toBeGreaterThan(10);
        expect(stack.output()).not.toContain(secret);
        expect(JSON.stringify(events)).not.toContain(secret);
      }
    }, 90_000);
  },
);
