import { builtinModules } from "node:module";
import { describe, expect, it } from "vitest";
import { cyclesOf } from "./cycles.js";
import {
  importsOf,
  resolveRelative,
  sourceFiles,
  type WorkspacePackage,
  workspacePackages,
} from "./workspace.js";

/**
 * The floor plan, lowest tier first. A package's dependencies are in lower tiers only; its tests may
 * also use the testing tier (the stand-ins and the test kit). A new package must be placed here.
 */
const TIERS: readonly (readonly string[])[] = [
  // Pure: no I/O, no workspace dependency.
  [
    "@leasehold/domain",
    "@leasehold/client",
    "@leasehold/sandbox",
    "@leasehold/infra",
    "@leasehold/architecture",
  ],
  // Adapters to the world outside: databases, queues, credential backends, Slack.
  [
    "@leasehold/db",
    "@leasehold/queue",
    "@leasehold/providers",
    "@leasehold/slack",
    // Where the audit trail is copied outside the database: file, webhook/Splunk HEC, syslog.
    "@leasehold/audit-sinks",
    // Cedar: decides who may do what (WebAssembly, no I/O).
    "@leasehold/policy",
    // Prometheus: the Metrics port over prom-client, and /metrics for the apps without HTTP.
    "@leasehold/metrics",
    // OpenTelemetry: spans out over OTLP, trace context in job data, the attribute allow-list.
    "@leasehold/tracing",
  ],
  // The use cases; the configuration file, composed from the providers' schemas.
  ["@leasehold/broker", "@leasehold/config"],
  // Composition: opens what the use cases need, logging and process lifecycle.
  ["@leasehold/runtime"],
  // Deployable apps.
  ["@leasehold/api", "@leasehold/worker", "@leasehold/slack-bot"],
  // What runs the apps: local mode, the test kit, the benchmark runner; the CLI, a client of the API.
  ["@leasehold/local", "@leasehold/test-kit"],
  // The web console, a client of the API typed from its router.
  ["@leasehold/bench", "@leasehold/cli", "@leasehold/console"],
  // The browser test of the console and the CLI against local mode.
  ["@leasehold/e2e"],
];
/** What tests may use from any tier: the stand-ins, the test kit, and local mode (which runs the apps). */
const TESTING = new Set(["@leasehold/sandbox", "@leasehold/test-kit", "@leasehold/local"]);

const packages = workspacePackages();
const byName = new Map(packages.map((p) => [p.name, p]));
const tierOf = (name: string) => TIERS.findIndex((tier) => tier.includes(name));

/** Test code: test files, `test/` folders, and the helpers only tests use. */
const isTestCode = (file: string) =>
  /\.test\.ts$/.test(file) || /(^|\/)test\//.test(file) || /(^|\/)(test-[\w-]+|testing)\.ts$/.test(file);

/** The workspace package an import specifier names, if any (`@leasehold/db/testing` → `@leasehold/db`). */
const workspacePackageOf = (specifier: string) =>
  specifier.startsWith("@leasehold/") ? specifier.split("/").slice(0, 2).join("/") : undefined;

describe("the floor plan", () => {
  it("places every workspace package in exactly one tier", () => {
    const unplaced = packages.filter((p) => tierOf(p.name) === -1).map((p) => p.name);
    expect(unplaced).toEqual([]);
    const all = TIERS.flat();
    expect(all.length).toBe(new Set(all).size);
  });

  it("no package depends on its own tier or one above it; tests may also use the testing tier", () => {
    const wrong: string[] = [];
    for (const pkg of packages) {
      for (const used of pkg.uses) {
        const below = tierOf(used) < tierOf(pkg.name);
        if (!below && !(TESTING.has(used) && isDevOnly(pkg, used))) wrong.push(`${pkg.name} → ${used}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("the use cases do not read configuration", () => {
    expect(byName.get("@leasehold/broker")?.uses).not.toContain("@leasehold/config");
  });

  it("has no circle between packages, counting the tests' dependencies", () => {
    const graph = new Map(packages.map((p) => [p.name, p.uses.filter((u) => byName.has(u))]));
    expect(cyclesOf(graph)).toEqual([]);
  });

  it("has no import circle between the files of any package", () => {
    const circles: string[][] = [];
    for (const pkg of packages) {
      const graph = new Map<string, string[]>();
      for (const file of sourceFiles(pkg.dir)) {
        const local = importsOf(file)
          .filter((i) => i.specifier.startsWith("."))
          .map((i) => resolveRelative(file, i.specifier))
          .filter((f): f is string => f !== undefined);
        graph.set(file, local);
      }
      circles.push(...cyclesOf(graph));
    }
    expect(circles).toEqual([]);
  });

  it("source loads only the workspace packages its package.json declares; tests also their dev ones", () => {
    const undeclared: string[] = [];
    for (const pkg of packages) {
      const manifest = dependenciesOf(pkg);
      for (const file of sourceFiles(pkg.dir)) {
        for (const { specifier, typeOnly } of importsOf(file)) {
          const used = workspacePackageOf(specifier);
          if (!used || used === pkg.name) continue;
          // A type-only import loads nothing at run time: a dev dependency serves it.
          const devOk = isTestCode(file) || typeOnly;
          const declared = manifest.prod.has(used) || (devOk && manifest.dev.has(used));
          if (!declared) undeclared.push(`${file} → ${specifier}`);
        }
      }
    }
    expect(undeclared).toEqual([]);
  });

  it("declares no workspace dependency it does not use, and none for source that only its tests use", () => {
    const surplus: string[] = [];
    for (const pkg of packages) {
      const bySource = new Set<string>();
      const byTests = new Set<string>();
      for (const file of sourceFiles(pkg.dir)) {
        for (const { specifier } of importsOf(file)) {
          const used = workspacePackageOf(specifier);
          if (used) (isTestCode(file) ? byTests : bySource).add(used);
        }
      }
      for (const used of pkg.prod) if (!bySource.has(used)) surplus.push(`${pkg.name}: dependency ${used}`);
      for (const used of pkg.dev) {
        if (!byTests.has(used) && !bySource.has(used)) surplus.push(`${pkg.name}: devDependency ${used}`);
      }
    }
    expect(surplus).toEqual([]);
  });

  it("reads imports the way the checks above assume", () => {
    // A sanity check of the reader itself: a node builtin is never taken for a workspace package.
    expect(builtinModules.map(workspacePackageOf).filter(Boolean)).toEqual([]);
    const own = importsOf("tools/architecture/src/layers.test.ts");
    expect(own).toContainEqual({ specifier: "./cycles.js", typeOnly: false });
    expect(importsOf("tools/architecture/src/import-reader.fixture.txt")).toEqual([
      { specifier: "@leasehold/a", typeOnly: true },
      { specifier: "@leasehold/b/sub", typeOnly: false },
      { specifier: "./c.js", typeOnly: false },
      { specifier: "@leasehold/d", typeOnly: false },
    ]);
  });
});

const isDevOnly = (pkg: WorkspacePackage, used: string) => pkg.dev.includes(used) && !pkg.prod.includes(used);

const dependenciesOf = (pkg: WorkspacePackage) => ({ prod: new Set(pkg.prod), dev: new Set(pkg.dev) });
