import type {
  OpsgenieCall,
  OpsgenieFault,
  OpsgenieIncidentConfig,
  OpsgenieIncidentRecord,
  OpsgenieSandboxOptions,
  OpsgenieScheduleConfig,
  OpsgenieShiftConfig,
  OpsgenieUserConfig,
} from "./opsgenie-sandbox-types.js";

export type Shift = { username: string; start: Date | null; end: Date | null };
export type Schedule = { id: string; name: string; enabled: boolean; shifts: Shift[] };

export type OpsgenieState = {
  apiKey: string;
  keysWithoutPermission: readonly string[];
  clock: () => Date;
  users: OpsgenieUserConfig[];
  schedules: Schedule[];
  incidents: Map<string, OpsgenieIncidentRecord>;
  nextTinyId: number;
  faults: OpsgenieFault[];
  calls: OpsgenieCall[];
};

const userByUsername = (state: OpsgenieState, username: string) =>
  state.users.find((user) => user.username.toLowerCase() === username.toLowerCase());

export function toShifts(state: OpsgenieState, shifts: readonly OpsgenieShiftConfig[]): Shift[] {
  return shifts.map((shift) => {
    if (userByUsername(state, shift.username) === undefined) {
      throw new Error(`Shift names unknown user "${shift.username}"`);
    }
    return { username: shift.username, start: shift.start ?? null, end: shift.end ?? null };
  });
}

const toSchedule = (state: OpsgenieState, config: OpsgenieScheduleConfig): Schedule => ({
  id: config.id,
  name: config.name,
  enabled: config.enabled ?? true,
  shifts: toShifts(state, config.shifts ?? []),
});

export function addIncident(state: OpsgenieState, config: OpsgenieIncidentConfig): OpsgenieIncidentRecord {
  if (state.incidents.has(config.id)) throw new Error(`Incident "${config.id}" already exists`);
  for (const responder of config.responders ?? []) {
    if (responder.type === "user" && !state.users.some((user) => user.id === responder.id)) {
      throw new Error(`Incident names unknown user responder "${responder.id}"`);
    }
  }
  const createdAt = config.createdAt ?? state.clock();
  const record: OpsgenieIncidentRecord = {
    id: config.id,
    tinyId: config.tinyId ?? String(state.nextTinyId++),
    message: config.message,
    status: config.status ?? "open",
    impactedServices: [...config.impactedServices],
    responders: (config.responders ?? []).map((responder) => ({ ...responder })),
    createdAt,
    updatedAt: createdAt,
  };
  state.incidents.set(record.id, record);
  return record;
}

export function createOpsgenieState(options: OpsgenieSandboxOptions): OpsgenieState {
  const state: OpsgenieState = {
    apiKey: options.apiKey,
    keysWithoutPermission: options.keysWithoutPermission ?? [],
    clock: options.clock ?? (() => new Date()),
    users: [...options.users],
    schedules: [],
    incidents: new Map(),
    nextTinyId: 1,
    faults: [],
    calls: [],
  };
  state.schedules = options.schedules.map((config) => toSchedule(state, config));
  for (const incident of options.incidents ?? []) addIncident(state, incident);
  return state;
}

export function findUser(state: OpsgenieState, identifier: string): OpsgenieUserConfig | undefined {
  return state.users.find((user) => user.id === identifier) ?? userByUsername(state, identifier);
}

export function takeFault(state: OpsgenieState, path: string): OpsgenieFault | undefined {
  const fault = state.faults.find((candidate) => candidate.path === "*" || candidate.path === path);
  if (fault === undefined) return undefined;
  fault.times -= 1;
  state.faults = state.faults.filter((candidate) => candidate.times > 0);
  return fault;
}
