import type {
  PagerDutyCall,
  PagerDutyEscalationPolicyConfig,
  PagerDutyFault,
  PagerDutyIncidentConfig,
  PagerDutyIncidentRecord,
  PagerDutyOnCallConfig,
  PagerDutySandboxOptions,
  PagerDutyScheduleConfig,
  PagerDutyServiceConfig,
  PagerDutyUserConfig,
} from "./pagerduty-sandbox-types.js";

/** One on-call shift with every default filled in. */
export type OnCallShift = {
  userId: string;
  escalationPolicyId: string;
  scheduleId: string | null;
  level: number;
  start: Date | null;
  end: Date | null;
};

export type PagerDutyState = {
  token: string;
  bearerTokens: readonly string[];
  requireVersionHeader: boolean;
  clock: () => Date;
  users: Map<string, PagerDutyUserConfig>;
  services: Map<string, PagerDutyServiceConfig>;
  policies: Map<string, PagerDutyEscalationPolicyConfig>;
  schedules: Map<string, PagerDutyScheduleConfig>;
  oncalls: OnCallShift[];
  incidents: Map<string, PagerDutyIncidentRecord>;
  nextIncidentNumber: number;
  faults: PagerDutyFault[];
  calls: PagerDutyCall[];
};

const byId = <T extends { id: string }>(items: readonly T[] | undefined) =>
  new Map((items ?? []).map((item) => [item.id, item] as const));

/** Checks a shift names known users, policies and schedules, and fills its defaults. */
export function toShift(state: PagerDutyState, config: PagerDutyOnCallConfig): OnCallShift {
  if (!state.users.has(config.userId)) throw new Error(`On-call names unknown user "${config.userId}"`);
  if (!state.policies.has(config.escalationPolicyId)) {
    throw new Error(`On-call names unknown escalation policy "${config.escalationPolicyId}"`);
  }
  const scheduleId = config.scheduleId ?? null;
  if (scheduleId !== null && !state.schedules.has(scheduleId)) {
    throw new Error(`On-call names unknown schedule "${scheduleId}"`);
  }
  return {
    userId: config.userId,
    escalationPolicyId: config.escalationPolicyId,
    scheduleId,
    level: config.level ?? 1,
    start: config.start ?? null,
    end: config.end ?? null,
  };
}

/** Adds an incident after checking its service and assignees exist. */
export function addIncident(
  state: PagerDutyState,
  config: PagerDutyIncidentConfig,
  at: Date,
): PagerDutyIncidentRecord {
  if (state.incidents.has(config.id)) throw new Error(`Incident "${config.id}" already exists`);
  if (!state.services.has(config.serviceId)) throw new Error(`Unknown service "${config.serviceId}"`);
  for (const userId of config.assigneeIds ?? []) {
    if (!state.users.has(userId)) throw new Error(`Incident assigned to unknown user "${userId}"`);
  }
  const status = config.status ?? "triggered";
  const createdAt = config.createdAt ?? at;
  const record: PagerDutyIncidentRecord = {
    id: config.id,
    number: state.nextIncidentNumber++,
    title: config.title,
    serviceId: config.serviceId,
    status,
    assigneeIds: status === "resolved" ? [] : [...(config.assigneeIds ?? [])],
    createdAt,
    updatedAt: createdAt,
    resolvedAt: status === "resolved" ? createdAt : null,
  };
  state.incidents.set(record.id, record);
  return record;
}

export function createPagerDutyState(options: PagerDutySandboxOptions): PagerDutyState {
  const clock = options.clock ?? (() => new Date());
  const state: PagerDutyState = {
    token: options.token,
    bearerTokens: options.bearerTokens ?? [],
    requireVersionHeader: options.requireVersionHeader ?? true,
    clock,
    users: byId(options.users),
    services: byId(options.services),
    policies: byId(options.escalationPolicies),
    schedules: byId(options.schedules),
    oncalls: [],
    incidents: new Map(),
    nextIncidentNumber: 1,
    faults: [],
    calls: [],
  };
  for (const service of options.services) {
    if (!state.policies.has(service.escalationPolicyId)) {
      throw new Error(
        `Service "${service.id}" names unknown escalation policy "${service.escalationPolicyId}"`,
      );
    }
  }
  state.oncalls = (options.oncalls ?? []).map((config) => toShift(state, config));
  const now = clock();
  for (const incident of options.incidents ?? []) addIncident(state, incident, now);
  return state;
}

/** Takes one use of the first pending fault matching `path`, if any. */
export function takeFault(state: PagerDutyState, path: string): PagerDutyFault | undefined {
  const fault = state.faults.find((candidate) => candidate.path === "*" || candidate.path === path);
  if (fault === undefined) return undefined;
  fault.times -= 1;
  state.faults = state.faults.filter((candidate) => candidate.times > 0);
  return fault;
}
