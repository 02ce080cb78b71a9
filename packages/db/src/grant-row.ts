import type { Grant, GrantState } from "@leasehold/domain";

/** A grants row as PostgreSQL returns it. */
export type GrantRow = {
  id: string;
  request_id: string | null;
  target_id: string;
  principal_id: string;
  state: GrantState;
  duration_seconds: number;
  created_at: Date;
  issued_at: Date | null;
  expires_at: Date | null;
  ended_at: Date | null;
  provider_ref: Record<string, string> | null;
  issue_attempts: number;
  last_error: string | null;
};

// Every column but the MAC and the sealed credential, which only the delivery read (lockForDelivery) returns.
export const COLUMNS = `id, request_id, target_id, principal_id, state, duration_seconds, created_at, issued_at,
  expires_at, ended_at, provider_ref, issue_attempts, last_error`;

export const toGrant = (row: GrantRow): Grant => ({
  id: row.id,
  requestId: row.request_id,
  targetId: row.target_id,
  principalId: row.principal_id,
  state: row.state,
  durationSeconds: row.duration_seconds,
  createdAt: row.created_at,
  issuedAt: row.issued_at,
  expiresAt: row.expires_at,
  endedAt: row.ended_at,
  providerRef: row.provider_ref,
  issueAttempts: row.issue_attempts,
  lastError: row.last_error,
});
