import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";

/** infra/ and the repository root, wherever the tests run from. */
export const infraDir = fileURLToPath(new URL("..", import.meta.url));
export const repoDir = join(infraDir, "..");

export const readInfra = (path: string) => readFileSync(join(infraDir, path), "utf8");
export const readRepo = (path: string) => readFileSync(join(repoDir, path), "utf8");

/** Files under infra/ (relative paths), skipping dependencies and tool state. */
export function infraFiles(filter: (path: string) => boolean): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name === ".terraform") continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (filter(relative(infraDir, path))) found.push(relative(infraDir, path));
    }
  };
  walk(infraDir);
  return found.sort();
}

/** Where each app's environment is declared: the shared slices and the three apps' own env.ts. */
export const ENV_SOURCES = [
  "packages/config/src/env.ts",
  "apps/api/src/env.ts",
  "apps/worker/src/env.ts",
  "apps/slack-bot/src/env.ts",
] as const;

/**
 * Every environment variable the apps read, taken from the env.ts sources as `NAME:` object keys at the
 * start of a line (zod shapes declare them that way). Names inside strings, comments and prose are not
 * at the start of a line, so they do not count.
 */
export function appEnvKeys(): Set<string> {
  const keys = new Set<string>();
  for (const source of ENV_SOURCES) {
    for (const match of readRepo(source).matchAll(/^\s*([A-Z][A-Z0-9_]+)\??\s*:/gm)) {
      if (match[1]) keys.add(match[1]);
    }
  }
  return keys;
}

/** Variables the AWS SDK reads itself (the apps never name them, but deployments may set them). */
export const isAwsSdkVariable = (name: string) => /^AWS_[A-Z0-9_]+$/.test(name);

/** Names whose values are secrets: they come from an env file or a Secret, never from a manifest. */
export const isSecretName = (name: string) =>
  /(PASSWORD|SECRET|TOKEN|MASTER_KEY|PRIVATE_KEY|ACCESS_KEY|CREDENTIAL|ROLE_ID|DATABASE_URL|ADMIN_URL)/.test(
    name,
  );

/** A URL with a user and password in it (`scheme://user:pass@host`). */
export const hasUrlCredentials = (value: string) => /[a-z][a-z0-9+.-]*:\/\/[^/\s@]*:[^/\s@]*@/i.test(value);

type AdminUrlHolder = { sql?: { adminUrlEnv?: unknown }; database?: { adminUrlEnv?: unknown } };

/** The `adminUrlEnv` variables a leasehold.yaml names (sql targets and rotations). */
export function adminUrlEnvs(leaseholdYaml: string): string[] {
  const config = parseYaml(leaseholdYaml) as { targets?: AdminUrlHolder[]; rotations?: AdminUrlHolder[] };
  const names = [
    ...(config.targets ?? []).map((t) => t.sql?.adminUrlEnv),
    ...(config.rotations ?? []).map((r) => r.database?.adminUrlEnv),
  ];
  return [...new Set(names.filter((n): n is string => typeof n === "string"))];
}

/** A narrowing helper: fails the test with `what` when `value` is missing. */
export function present<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`missing: ${what}`);
  return value;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Reads `value[key]` as an object (or fails naming `what`). */
export function objectAt(value: unknown, key: string, what: string): JsonObject {
  const inner = isObject(value) ? value[key] : undefined;
  if (!isObject(inner)) throw new Error(`${what}: expected an object at "${key}"`);
  return inner;
}

/** Reads `value[key]` as an array (or fails naming `what`). */
export function arrayAt(value: unknown, key: string, what: string): Json[] {
  const inner = isObject(value) ? value[key] : undefined;
  if (!Array.isArray(inner)) throw new Error(`${what}: expected a list at "${key}"`);
  return inner;
}
