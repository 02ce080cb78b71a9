import type { Bench } from "./bench-result.js";
import { p1ApprovalToCredentials } from "./p1-approval-to-credentials.js";
import { p2SqlLeaseRate } from "./p2-sql-lease-rate.js";
import { p2bTargetDatabaseCost } from "./p2b-target-database-cost.js";
import { p3ExpiryAtScale } from "./p3-expiry-at-scale.js";
import { p4MemoryPerExpiry } from "./p4-memory-per-expiry.js";
import { p5AuthenticatedCalls } from "./p5-authenticated-calls.js";
import { p6SlackAcknowledgement } from "./p6-slack-acknowledgement.js";
import { pcPolicyDecision } from "./pc-policy-decision.js";

/** Every benchmark, in the order `pnpm bench` runs them. */
export const BENCHES: readonly Bench[] = [
  p1ApprovalToCredentials,
  p2SqlLeaseRate,
  p2bTargetDatabaseCost,
  p3ExpiryAtScale,
  p4MemoryPerExpiry,
  p5AuthenticatedCalls,
  p6SlackAcknowledgement,
  pcPolicyDecision,
];
