/**
 * A configuration problem that must stop the process. The message names the file (or variable), the
 * field, and what to change; apps print it without a stack trace and exit non-zero.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    super(`${source} is not valid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.problems = problems;
  }
}
