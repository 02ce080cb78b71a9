import { auditSinkNameSchema, envVarNameSchema } from "@leasehold/domain";
import { z } from "zod";

/**
 * What every sink kind's settings share. Secrets (an HMAC key, a HEC token, TLS material) never live
 * in leasehold.yaml: a sink names the environment variables that hold them.
 */

/** A sink's name (the domain's rule, shared with the S3 sink). */
export const sinkNameSchema = auditSinkNameSchema;

/** An environment variable's name (the rule every setting that names one follows). */
export const envNameSchema = envVarNameSchema;

/** `json`: each event as the API renders it. `ocsf`: an OCSF-shaped mapping (audit-record.ts). */
export const recordFormatSchema = z.enum(["json", "ocsf"]).default("json");
export type RecordFormat = z.output<typeof recordFormatSchema>;

/** Milliseconds to wait for one answer (a connection, a response) before the try counts as failed. */
export const timeoutMsSchema = z.int().min(100).max(60_000).default(10_000);

/** The environment as the app's env.ts hands it over; nothing in this package reads process.env. */
export type SinkEnvironment = Readonly<Record<string, string | undefined>>;

/** The value of the variable `name`, which `setting` names; unset or empty stops the process. */
export function secretFrom(env: SinkEnvironment, name: string, setting: string): string {
  const value = env[name]?.trim();
  if (value === undefined || value === "") throw new Error(`Set ${name} (named by ${setting})`);
  return value;
}
