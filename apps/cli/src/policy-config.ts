import { readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ConfigError, type LeaseholdConfig, loadConfigFile, readPolicySources } from "@leasehold/config";
import {
  type PolicyEngine,
  PolicyLoadError,
  type PolicySource,
  type PolicyWorld,
  policyEngineFor,
} from "@leasehold/policy";
import { parse } from "yaml";
import { CliError, EXIT } from "./exit-codes.js";

/*
 * The policy commands read leasehold.yaml and its policy files, as the apps do at start, and never
 * call the API. Any problem stops them with exit 78 and every problem, each naming its file.
 */

export type LoadedPolicyConfig = {
  /** leasehold.yaml's path as given (or found in the directory given). */
  readonly path: string;
  readonly config: LeaseholdConfig;
  readonly engine: PolicyEngine;
  readonly world: PolicyWorld;
};

/** A leasehold.yaml, or a directory holding one. */
export function configFileAt(path: string): string {
  try {
    return statSync(path).isDirectory() ? join(path, "leasehold.yaml") : path;
  } catch {
    return path;
  }
}

/**
 * Policy files named as one finds them from here: the sources keep the names the apps give them
 * (relative to leasehold.yaml, so policy ids made from them are the same), messages get these.
 */
function fromHere(problem: string, sources: readonly PolicySource[], baseDir: string): string {
  const source = sources.find((s) => problem.startsWith(`${s.file}:`));
  if (!source) return problem;
  const full = resolve(baseDir, source.file);
  const here = relative(process.cwd(), full);
  return `${here.startsWith("..") ? full : here}${problem.slice(source.file.length)}`;
}

/** Every problem of the configuration and its policies, or the loaded configuration. */
export function checkPolicyConfig(
  given: string,
): { ok: true; loaded: LoadedPolicyConfig } | { ok: false; problems: string[] } {
  const path = configFileAt(given);
  let config: LeaseholdConfig;
  let sources: PolicySource[];
  const baseDir = dirname(path);
  try {
    config = loadConfigFile(path);
    sources = readPolicySources(config.policies, baseDir);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { ok: false, problems: error.problems.map((p) => `${path}: ${p}`) };
  }
  try {
    const engine = policyEngineFor(config, sources);
    const world: PolicyWorld = { engine, ...config };
    return { ok: true, loaded: { path, config, engine, world } };
  } catch (error) {
    if (!(error instanceof PolicyLoadError)) throw error;
    return { ok: false, problems: error.problems.map((p) => fromHere(p, sources, baseDir)) };
  }
}

/** The configuration and its engine; exit 78 with every problem when anything is invalid. */
export function loadPolicyConfig(given: string): LoadedPolicyConfig {
  const checked = checkPolicyConfig(given);
  if (checked.ok) return checked.loaded;
  throw new CliError(
    `${configFileAt(given)} or its policies are not valid:\n${checked.problems.map((p) => `  - ${p}`).join("\n")}`,
    EXIT.config,
  );
}

/** Largest cases or context file read: beyond it, it is a mistake. */
const MAX_INPUT_BYTES = 1_000_000;

/** A YAML or JSON file's data (YAML is a superset of JSON); exit 78 when it cannot be read or parsed. */
export function readDataFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new CliError(`${path}: the file does not exist or cannot be read`, EXIT.config);
  }
  if (Buffer.byteLength(text) > MAX_INPUT_BYTES) {
    throw new CliError(`${path}: larger than ${MAX_INPUT_BYTES} bytes`, EXIT.config);
  }
  try {
    return parse(text, { maxAliasCount: 50, uniqueKeys: true });
  } catch (error) {
    throw new CliError(
      `${path}: not valid YAML or JSON: ${(error as Error).message.split("\n")[0]}`,
      EXIT.config,
    );
  }
}
