import { readFileSync } from "node:fs";
import { isNode, LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { ConfigError } from "./config-error.js";
import { type LeaseholdConfig, leaseholdConfigSchema } from "./leasehold-config.js";

/** Largest leasehold.yaml accepted; a policy file bigger than this is a mistake. */
const MAX_CONFIG_BYTES = 1_000_000;

/** Reads and validates leasehold.yaml; throws a ConfigError naming the file, line, field and fix. */
export function loadConfigFile(path: string): LeaseholdConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === "ENOENT" ? "the file does not exist" : "it cannot be read";
    throw new ConfigError(path, [`${reason}; set LEASEHOLD_CONFIG to the path of your leasehold.yaml`]);
  }
  return parseConfig(text, path);
}

/** Validates leasehold.yaml text; `source` names it in errors. */
export function parseConfig(text: string, source: string): LeaseholdConfig {
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    throw new ConfigError(source, [`the file is larger than ${MAX_CONFIG_BYTES} bytes`]);
  }
  const lineCounter = new LineCounter();
  // uniqueKeys: a repeated key is an error rather than "last one wins", which could hide a policy change.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => {
        const at = e.linePos?.[0];
        // The parser's own message repeats the position; keep only what it says is wrong.
        const what = (e.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
        return `${at ? `line ${at.line}, column ${at.col}: ` : ""}${what} (this is not valid YAML)`;
      }),
    );
  }
  const result = leaseholdConfigSchema.safeParse(doc.toJS({ maxAliasCount: 50 }));
  if (result.success) return result.data;
  throw new ConfigError(
    source,
    result.error.issues.map((issue) => describeIssue(issue, (path) => lineOf(doc, lineCounter, path))),
  );
}

function lineOf(doc: ReturnType<typeof parseDocument>, lines: LineCounter, path: readonly PropertyKey[]) {
  // A missing field has no node: point at the closest enclosing one that exists.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

function describeIssue(
  issue: z.core.$ZodIssue,
  lineFor: (path: readonly PropertyKey[]) => number | undefined,
) {
  const field = issue.path.reduce<string>(
    (out, key) => (typeof key === "number" ? `${out}[${key}]` : `${out}${out ? "." : ""}${String(key)}`),
    "",
  );
  const line = lineFor(issue.path);
  const where = `${line === undefined ? "" : `line ${line}, `}${field || "(top level)"}`;
  return `${where}: ${humanMessage(issue)}`;
}

function humanMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "unrecognized_keys":
      return `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}; check the spelling against leasehold.example.yaml`;
    case "invalid_type":
      return issue.input === undefined ? "this field is required" : `${issue.message}`;
    case "invalid_union":
      return `${issue.message}; see leasehold.example.yaml for the accepted forms`;
    case "invalid_key":
      // A bad key of a map (a Slack user id in slack.users): say the key's own rule, not "Invalid key".
      return issue.issues.map((inner) => inner.message).join("; ");
    default:
      return issue.message;
  }
}
