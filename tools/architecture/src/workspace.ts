import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root: two folders above this package. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export type WorkspacePackage = {
  readonly name: string;
  /** Its folder, relative to the root (`packages/broker`). */
  readonly dir: string;
  /** The workspace packages it depends on, dependencies and devDependencies alike. */
  readonly uses: readonly string[];
  /** Of those, the ones in `dependencies` (what its source may import)... */
  readonly prod: readonly string[];
  /** ...and the ones in `devDependencies` (what only its tests may import). */
  readonly dev: readonly string[];
};

/** Every package the workspace file lists (`apps/*`, `packages/*`, …), read from its package.json. */
export function workspacePackages(): WorkspacePackage[] {
  // The `packages:` list: its items are the indented lines up to the next top-level key.
  const lines = readFileSync(join(ROOT, "pnpm-workspace.yaml"), "utf8").split("\n");
  const start = lines.indexOf("packages:") + 1;
  const end = lines.findIndex((line, i) => i >= start && /^\S/.test(line));
  const patterns = lines
    .slice(start, end === -1 ? undefined : end)
    .map((line) => /^\s+-\s+"?([^"\s]+)"?\s*$/.exec(line)?.[1])
    .filter((p): p is string => p !== undefined);
  const dirs = patterns.flatMap((pattern) =>
    pattern.endsWith("/*")
      ? readdirSync(join(ROOT, pattern.slice(0, -2)))
          .map((child) => `${pattern.slice(0, -2)}/${child}`)
          .filter((dir) => existsSync(join(ROOT, dir, "package.json")))
      : [pattern],
  );
  return dirs.map((dir) => {
    const manifest = JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8")) as {
      name: string;
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const ours = (deps: Record<string, string> | undefined) =>
      Object.keys(deps ?? {}).filter((d) => d.startsWith("@leasehold/"));
    const prod = ours(manifest.dependencies);
    const dev = ours(manifest.devDependencies);
    return { name: manifest.name, dir, uses: [...new Set([...prod, ...dev])], prod, dev };
  });
}

/** The TypeScript files under `dir` (relative to the root), without node_modules and build output. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string) => {
    for (const entry of readdirSync(abs)) {
      if (entry === "node_modules" || entry === "dist" || entry.startsWith(".")) continue;
      const path = join(abs, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith(".ts") && !entry.endsWith(".d.ts")) out.push(relative(ROOT, path));
    }
  };
  walk(join(ROOT, dir));
  return out.sort();
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)(\s+type)?\s[^;]*?\sfrom\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

export type Import = {
  readonly specifier: string;
  /** `import type` / `export type`: erased when compiled, so nothing is loaded at run time. */
  readonly typeOnly: boolean;
};

/** What a file imports: module specifiers as written, static and dynamic. */
export function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  return [...text.matchAll(IMPORT)].map((m) => ({
    specifier: m[2] ?? m[3] ?? "",
    typeOnly: m[1] !== undefined,
  }));
}

/** A relative import resolved to the file it names (`./x.js` → `x.ts`, `./dir` → `dir/index.ts`). */
export function resolveRelative(from: string, specifier: string): string | undefined {
  const base = join(dirname(from), specifier);
  const candidates = [base.replace(/\.js$/, ".ts"), `${base}.ts`, join(base, "index.ts")];
  return candidates.find((c) => existsSync(join(ROOT, c)) && statSync(join(ROOT, c)).isFile());
}
