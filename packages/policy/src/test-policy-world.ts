import { type Target, targetSchemaFor } from "@leasehold/domain";
import { z } from "zod";
import { policyEngineFor } from "./engine.js";
import type { PolicySource } from "./policy-set.js";
import type { PolicyWorld } from "./policy-universe.js";

/** Targets and worlds for the policy tooling's tests: one kind of target, no provider. */
const targetSchema = targetSchemaFor({
  kind: "session",
  settingsKey: "session",
  settings: z.object({}).strict(),
  durationLimits: { minSeconds: 900, maxSeconds: 43_200 },
});

export const testTarget = (fields: Record<string, unknown>): Target =>
  targetSchema.parse({ kind: "session", session: {}, maxDuration: "4h", ...fields });

export const prod = testTarget({
  id: "prod",
  environment: "prod",
  requesters: { groups: ["eng"] },
  approvers: { users: ["lead@example.com"], groups: ["sre"] },
  breakGlass: { allowed: { groups: ["sre", "eng"] } },
  escalateAfter: "30m",
  escalation: [{ approvers: { users: ["cto@example.com"] } }],
  leases: [{ provider: "ci", subject: "repo:acme/*", claims: { ref: "main" }, maxTtl: "1h" }],
});

export const staging = testTarget({
  id: "staging",
  environment: "staging",
  requesters: { groups: ["eng"] },
  approvers: { groups: ["sre"] },
});

type WorldInput = {
  targets?: readonly Target[];
  admins?: PolicyWorld["admins"];
  files?: readonly PolicySource[];
  slack?: PolicyWorld["slack"];
};

/** A world (a configuration and its engine) from targets, admins and policy files. */
export function testWorld(input: WorldInput = {}): PolicyWorld {
  const targets = input.targets ?? [prod, staging];
  const admins = input.admins ?? { users: [], groups: ["security"] };
  return {
    engine: policyEngineFor({ targets, admins }, input.files ?? []),
    targets,
    admins,
    rotations: [{ id: "db-password" }],
    slack: input.slack,
  };
}
