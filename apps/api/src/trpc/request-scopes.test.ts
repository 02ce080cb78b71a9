import type { RequestView } from "@leasehold/broker";
import { type Principal, type RequestAccessInput, tallyReviews } from "@leasehold/domain";
import { awsRoleTargetSchema } from "@leasehold/providers/schemas";
import { describe, expect, it } from "vitest";
import { type ApiUseCases, createAppRouter } from "./app-router.js";
import { createCallerFactory } from "./trpc.js";

/** The API offers a target's scopes by name and description, and passes the ones asked for through. */

const dev: Principal = {
  id: "dev@example.com",
  kind: "human",
  provider: "corp",
  subject: "sub-dev",
  groups: [],
};

const target = awsRoleTargetSchema.parse({
  id: "prod-ops",
  kind: "aws-role",
  requesters: { groups: ["eng"] },
  approvers: { groups: ["sre"] },
  maxDuration: "1h",
  aws: { roleArn: "arn:aws:iam::123456789012:role/ProdOperator" },
  scopes: [
    { name: "read-logs", description: "Read CloudWatch logs", aws: { actions: ["logs:Get*"] } },
    { name: "restart", aws: { actions: ["ecs:UpdateService"] } },
  ],
  defaultScopes: ["read-logs"],
});

function apiWith(asked: RequestAccessInput[]) {
  const useCases = {
    targets: { list: () => [target] },
    requests: {
      create: async (_principal: Principal, input: RequestAccessInput): Promise<RequestView> => {
        asked.push(input);
        const now = new Date();
        return {
          request: {
            id: "6f1c0000-0000-4000-8000-000000000002",
            targetId: input.targetId,
            requesterId: dev.id,
            reason: input.reason,
            ticket: null,
            durationSeconds: 900,
            scopes: input.scopes ?? [],
            requiredApprovals: 1,
            state: "pending",
            createdAt: now,
            pendingUntil: now,
            decidedAt: null,
            escalationLevel: 0,
            escalateAt: null,
            breakGlass: false,
          },
          reviews: [],
          tally: tallyReviews([], dev.id, 1),
        };
      },
    },
  } as unknown as ApiUseCases;
  return createCallerFactory(createAppRouter(useCases))({
    auth: { principal: dev },
    requestId: "test",
    logError: () => {},
    checkRate: async () => {},
  });
}

describe("scopes through the API", () => {
  it("targets.list shows the scopes on offer and the defaults, never what a scope does", async () => {
    const [listed] = await apiWith([]).targets.list();
    expect(listed?.scopes).toEqual([
      { name: "read-logs", description: "Read CloudWatch logs" },
      { name: "restart", description: "" },
    ]);
    expect(listed?.defaultScopes).toEqual(["read-logs"]);
    expect(JSON.stringify(listed)).not.toMatch(/logs:Get|ecs:UpdateService/);
  });

  it("requests.create passes the scopes asked for and shows them on the request", async () => {
    const asked: RequestAccessInput[] = [];
    const created = await apiWith(asked).requests.create({
      targetId: "prod-ops",
      reason: "restart orders",
      scopes: ["restart"],
    });
    expect(asked.map((input) => input.scopes)).toEqual([["restart"]]);
    expect(created.scopes).toEqual(["restart"]);
  });

  it.each([
    ["a scope named twice", ["restart", "restart"]],
    ["a name that is not a scope name", ["Restart Now"]],
    ["more than ten scopes", Array.from({ length: 11 }, (_, i) => `s${i}`)],
  ])("refuses %s before the use case", async (_name, scopes) => {
    const asked: RequestAccessInput[] = [];
    await expect(
      apiWith(asked).requests.create({ targetId: "prod-ops", reason: "restart orders", scopes }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(asked).toEqual([]);
  });
});
