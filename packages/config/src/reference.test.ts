import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  awsEnv,
  coreEnv,
  databaseEnv,
  httpEnv,
  redisEnv,
  slackBotEnv,
  slackEnv,
  tracingEnv,
  vaultEnv,
  workerEnv,
} from "./env.js";
import { leaseholdConfigSchema } from "./leasehold-config.js";
import { schemaFieldPaths } from "./schema-fields.js";

const readme = readFileSync(fileURLToPath(new URL("../../../README.md", import.meta.url)), "utf8");

/** The backticked names in the first column of the table between two markers. */
function documented(section: string): string[] {
  const start = readme.indexOf(`<!-- ${section}:start -->`);
  const end = readme.indexOf(`<!-- ${section}:end -->`);
  expect(start, `the README has no ${section} section`).toBeGreaterThan(-1);
  return readme
    .slice(start, end)
    .split("\n")
    .map((line) => /^\|\s*`([^`]+)`\s*\|/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

describe("the README's references match the code", () => {
  it("documents every leasehold.yaml field, and no field that does not exist", () => {
    const fields = [...new Set(schemaFieldPaths(leaseholdConfigSchema))].sort();
    expect(documented("config-reference").sort()).toEqual(fields);
  });

  it("documents every environment variable the apps read, and no other", () => {
    const slices = [
      coreEnv,
      databaseEnv,
      redisEnv,
      httpEnv,
      awsEnv,
      vaultEnv,
      slackEnv,
      slackBotEnv,
      workerEnv,
      tracingEnv,
    ];
    const variables = slices.flatMap((slice) => Object.keys(slice)).sort();
    expect(documented("env-reference").sort()).toEqual(variables);
  });
});
