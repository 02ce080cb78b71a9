/** Public types of the PagerDuty REST API v2 stand-in (see pagerduty-sandbox.ts and README.md). */

export type PagerDutyUserConfig = { id: string; name: string; email: string };
export type PagerDutyServiceConfig = { id: string; name: string; escalationPolicyId: string };
export type PagerDutyEscalationPolicyConfig = { id: string; name: string };
export type PagerDutyScheduleConfig = { id: string; name: string };

/**
 * One on-call shift: `userId` is on call for `escalationPolicyId` at `level` from `start` to `end`.
 * `scheduleId` null (the default) = a direct user target of the policy, not via a schedule.
 * `start`/`end` null = open-ended (`end: null` is PagerDuty's "permanent on-call").
 */
export type PagerDutyOnCallConfig = {
  userId: string;
  escalationPolicyId: string;
  scheduleId?: string | null;
  level?: number;
  start?: Date | null;
  end?: Date | null;
};

export type PagerDutyIncidentStatus = "triggered" | "acknowledged" | "resolved";

export type PagerDutyIncidentConfig = {
  id: string;
  title: string;
  serviceId: string;
  /** Default "triggered". */
  status?: PagerDutyIncidentStatus;
  /** Assigned users' ids; PagerDuty empties the list when the incident resolves, and so does the stand-in. */
  assigneeIds?: readonly string[];
  /** Default: the sandbox clock at start. */
  createdAt?: Date;
};

/** An incident as the stand-in holds it (and as the API renders it). */
export type PagerDutyIncidentRecord = {
  id: string;
  number: number;
  title: string;
  serviceId: string;
  status: PagerDutyIncidentStatus;
  assigneeIds: string[];
  createdAt: Date;
  updatedAt: Date;
  resolvedAt: Date | null;
};

export type PagerDutySandboxOptions = {
  /** The account API key accepted as `Authorization: Token token=<token>`. */
  token: string;
  /** OAuth tokens accepted as `Authorization: Bearer <token>`. Default none. */
  bearerTokens?: readonly string[];
  users: readonly PagerDutyUserConfig[];
  services: readonly PagerDutyServiceConfig[];
  escalationPolicies: readonly PagerDutyEscalationPolicyConfig[];
  schedules?: readonly PagerDutyScheduleConfig[];
  oncalls?: readonly PagerDutyOnCallConfig[];
  incidents?: readonly PagerDutyIncidentConfig[];
  /**
   * Refuse a request without `Accept: application/vnd.pagerduty+json;version=2` (400). Default true:
   * stricter than PagerDuty, which picks the version from the token when the header is missing, so a
   * client that forgets the header is caught here rather than by a token made for another version.
   */
  requireVersionHeader?: boolean;
  port?: number;
  host?: string;
  /** Default: the wall clock. Decides "now" for `/oncalls` without since/until. */
  clock?: () => Date;
};

/** The REST paths the stand-in serves, for fault targeting; `*` = any. */
export type PagerDutyPath = "/oncalls" | "/users" | "/incidents" | "/incidents/{id}" | "*";

/**
 * The next `times` authenticated calls of `path` do not get their normal answer:
 * - `http500`: 500 with `{"error":{"message":"Internal Server Error","code":2000}}`;
 * - `ratelimit`: 429 `{"error":{"message":"Rate Limit Exceeded","code":2020}}` with the `ratelimit-*`
 *   headers (`resetSeconds`, default 30); `bare: true` sends the 429 with neither headers nor body,
 *   which PagerDuty says can happen;
 * - `delay`: the normal answer, `ms` later.
 */
export type PagerDutyFault =
  | { kind: "http500"; path: PagerDutyPath; times: number }
  | { kind: "ratelimit"; path: PagerDutyPath; times: number; resetSeconds?: number; bare?: boolean }
  | { kind: "delay"; path: PagerDutyPath; times: number; ms: number };

export type PagerDutyCall = {
  method: string;
  path: string;
  /** The query string's parameters in order (repeated keys kept). */
  query: readonly (readonly [string, string])[];
  status: number;
  at: Date;
};

export type PagerDutyWebhookDelivery = {
  /** Where to POST the event. */
  url: string;
  /** Subscription secrets; one `v1=` signature per secret (several during a rotation). */
  secrets: readonly string[];
  incidentId: string;
  /** Default "incident.resolved". */
  eventType?: string;
  /** Default a fresh id; pass one to replay a delivery as PagerDuty's retries do. */
  webhookId?: string;
  /** Sent verbatim, as a subscription's `custom_headers`. */
  headers?: Readonly<Record<string, string>>;
};

export type PagerDutyWebhookResult = { status: number; webhookId: string; body: string };

export type PagerDutySandbox = {
  /** `http://127.0.0.1:<port>`: the API base, as `https://api.pagerduty.com` is. */
  url: string;
  port: number;
  readonly calls: readonly PagerDutyCall[];
  /** Opens an incident (`triggered`) on a service, assigned to `assigneeIds`; returns it. */
  triggerIncident(incident: Omit<PagerDutyIncidentConfig, "status" | "createdAt">): PagerDutyIncidentRecord;
  acknowledgeIncident(id: string): PagerDutyIncidentRecord;
  /** Resolves an incident: status `resolved`, `resolved_at` set, assignments emptied. */
  resolveIncident(id: string): PagerDutyIncidentRecord;
  incident(id: string): PagerDutyIncidentRecord | undefined;
  /** Replaces every on-call shift. */
  setOnCalls(oncalls: readonly PagerDutyOnCallConfig[]): void;
  /** POSTs one signed Webhooks v3 event about an incident, as PagerDuty delivers it. */
  sendWebhook(delivery: PagerDutyWebhookDelivery): Promise<PagerDutyWebhookResult>;
  injectFault(fault: PagerDutyFault): void;
  close(): Promise<void>;
};
