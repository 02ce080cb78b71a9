/** Public types of the Opsgenie API stand-in (see opsgenie-sandbox.ts and README.md). */

/** A user; Opsgenie usernames are email addresses, and on-call recipients are named by username. */
export type OpsgenieUserConfig = { id: string; username: string; fullName: string };

/** One on-call shift in a schedule; `start`/`end` null or absent = open-ended. */
export type OpsgenieShiftConfig = { username: string; start?: Date | null; end?: Date | null };

export type OpsgenieScheduleConfig = {
  id: string;
  name: string;
  /** Default true. */
  enabled?: boolean;
  shifts?: readonly OpsgenieShiftConfig[];
};

/**
 * Incident status. Opsgenie does not document the set (contracts wave2 §8, Unconfirmed): the stand-in
 * uses `open`, `resolved` and `closed`, and counts only `open` as active.
 */
export type OpsgenieIncidentStatus = "open" | "resolved" | "closed";

export type OpsgenieResponder = { type: "user" | "team"; id: string };

export type OpsgenieIncidentConfig = {
  id: string;
  /** Default: the next number. */
  tinyId?: string;
  message: string;
  /** Default "open". */
  status?: OpsgenieIncidentStatus;
  /** Ids of the services the incident names (Opsgenie's `impactedServices`). */
  impactedServices: readonly string[];
  responders?: readonly OpsgenieResponder[];
  /** Default: the sandbox clock at creation. */
  createdAt?: Date;
};

export type OpsgenieIncidentRecord = {
  id: string;
  tinyId: string;
  message: string;
  status: OpsgenieIncidentStatus;
  impactedServices: string[];
  responders: OpsgenieResponder[];
  createdAt: Date;
  updatedAt: Date;
};

export type OpsgenieSandboxOptions = {
  /** The API integration key accepted as `Authorization: GenieKey <key>`. */
  apiKey: string;
  /** Keys that authenticate but lack permission: 403 with code 40301. Default none. */
  keysWithoutPermission?: readonly string[];
  users: readonly OpsgenieUserConfig[];
  schedules: readonly OpsgenieScheduleConfig[];
  incidents?: readonly OpsgenieIncidentConfig[];
  port?: number;
  host?: string;
  /** Default: the wall clock. "Now" for on-calls asked without `date`. */
  clock?: () => Date;
};

export type OpsgeniePath =
  | "/v2/schedules/{identifier}/on-calls"
  | "/v2/users/{identifier}"
  | "/v1/incidents"
  | "/v1/incidents/{identifier}"
  | "*";

/**
 * The next `times` authenticated calls of `path` do not get their normal answer:
 * - `http500`: 500 with the envelope's `message`, `took`, `requestId` (Opsgenie's 5xx bodies are
 *   not documented);
 * - `ratelimit`: 429 with the `X-RateLimit-*` headers (their literal values are not documented);
 * - `delay`: the normal answer, `ms` later.
 */
export type OpsgenieFault =
  | { kind: "http500"; path: OpsgeniePath; times: number }
  | { kind: "ratelimit"; path: OpsgeniePath; times: number; periodSeconds?: number }
  | { kind: "delay"; path: OpsgeniePath; times: number; ms: number };

export type OpsgenieCall = {
  method: string;
  path: string;
  query: readonly (readonly [string, string])[];
  status: number;
  at: Date;
};

export type OpsgenieSandbox = {
  /** `http://127.0.0.1:<port>`: the API base, as `https://api.opsgenie.com` is. */
  url: string;
  port: number;
  readonly calls: readonly OpsgenieCall[];
  /** Replaces a schedule's shifts (by schedule name). */
  setShifts(scheduleName: string, shifts: readonly OpsgenieShiftConfig[]): void;
  openIncident(incident: Omit<OpsgenieIncidentConfig, "status" | "createdAt">): OpsgenieIncidentRecord;
  resolveIncident(id: string): OpsgenieIncidentRecord;
  closeIncident(id: string): OpsgenieIncidentRecord;
  incident(id: string): OpsgenieIncidentRecord | undefined;
  injectFault(fault: OpsgenieFault): void;
  close(): Promise<void>;
};
