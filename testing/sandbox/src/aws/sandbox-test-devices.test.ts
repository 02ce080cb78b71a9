import { AssumeRoleCommand } from "@aws-sdk/client-sts";
import { afterEach, describe, expect, it } from "vitest";
import { startAwsSandbox } from "./aws-sandbox.js";
import type { AwsSandbox, IssuedSession } from "./aws-sandbox-types.js";
import { stsClient } from "./test-aws-clients.js";

const ROLE = "arn:aws:iam::123456789012:role/Devices";
const open: AwsSandbox[] = [];
afterEach(async () => {
  for (const sandbox of open.splice(0)) await sandbox.close();
});

describe("test devices", () => {
  it("sessionAgeOnIssueSeconds shortens what is left of each session", async () => {
    const sandbox = await startAwsSandbox({ roles: [{ arn: ROLE }], sessionAgeOnIssueSeconds: 890 });
    open.push(sandbox);
    const before = Date.now();
    const out = await stsClient(sandbox).send(
      new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "short", DurationSeconds: 900 }),
    );
    const left = (out.Credentials?.Expiration?.getTime() ?? 0) - before;
    expect(left).toBeGreaterThan(8_000);
    expect(left).toBeLessThanOrEqual(11_000);
    expect(sandbox.issued[0]?.durationSeconds).toBe(900);
  });

  it("beforeAssumeRoleResponse runs after the session exists and before the caller hears of it", async () => {
    const seen: { session: IssuedSession; answered: boolean }[] = [];
    let answered = false;
    const sandbox = await startAwsSandbox({
      roles: [{ arn: ROLE }],
      beforeAssumeRoleResponse: (session) => {
        seen.push({ session, answered });
      },
    });
    open.push(sandbox);
    await stsClient(sandbox).send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "hooked" }));
    answered = true;
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ answered: false, session: { roleSessionName: "hooked" } });
  });
});
