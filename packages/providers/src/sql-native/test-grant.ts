import type { Grant } from "@leasehold/domain";

/** A workload's lease of orders-readonly as the engine receives it mid-issue; tests override what they need. */
export const grantFor = (id: string, overrides: Partial<Grant> = {}): Grant => ({
  id,
  requestId: null,
  targetId: "orders-readonly",
  principalId: "ci:app",
  state: "issuing",
  durationSeconds: 900,
  createdAt: new Date(),
  issuedAt: null,
  expiresAt: null,
  endedAt: null,
  providerRef: null,
  issueAttempts: 1,
  lastError: null,
  ...overrides,
});
