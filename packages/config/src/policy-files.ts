import { readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { type PolicyEngine, PolicyLoadError, type PolicySource, policyEngineFor } from "@leasehold/policy";
import { ConfigError } from "./config-error.js";
import type { LeaseholdConfig } from "./leasehold-config.js";

/** Most .cedar files read from the paths leasehold.yaml names. */
const MAX_POLICY_FILES = 500;

/**
 * The .cedar files `policies` names: each path a file, or a directory whose .cedar files (not its
 * subdirectories) are read in name order. Paths are relative to `baseDir` (leasehold.yaml's directory).
 */
export function readPolicySources(paths: readonly string[], baseDir: string): PolicySource[] {
  const files: string[] = [];
  const problems: string[] = [];
  for (const path of paths) {
    const full = isAbsolute(path) ? path : resolve(baseDir, path);
    try {
      if (statSync(full).isDirectory()) {
        files.push(
          ...readdirSync(full)
            .filter((name) => name.endsWith(".cedar"))
            .sort()
            .map((name) => join(full, name)),
        );
      } else files.push(full);
    } catch {
      problems.push(
        `policies: ${path} does not exist or cannot be read (paths are relative to leasehold.yaml)`,
      );
    }
  }
  if (files.length > MAX_POLICY_FILES) problems.push(`policies: more than ${MAX_POLICY_FILES} .cedar files`);
  if (problems.length > 0) throw new ConfigError("leasehold.yaml", problems);
  // Messages name files as the operator wrote them: relative to leasehold.yaml's directory.
  return files.map((file) => ({ file: relative(baseDir, file) || file, text: readFileSync(file, "utf8") }));
}

/**
 * The policy engine for this configuration: leasehold.yaml's lists and the policy files, validated
 * against Leasehold's Cedar schema. Invalid Cedar stops the process with a ConfigError naming file,
 * line and column (exit 78).
 */
export function loadPolicyEngine(config: LeaseholdConfig, baseDir: string): PolicyEngine {
  const sources = readPolicySources(config.policies, baseDir);
  try {
    return policyEngineFor(config, sources);
  } catch (error) {
    if (error instanceof PolicyLoadError) throw new ConfigError("a policy file", error.problems);
    throw error;
  }
}
