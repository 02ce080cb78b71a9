import { describe, expect, it } from "vitest";
import { isSecretName, present, readInfra, readRepo } from "./support.js";

type Instruction = { keyword: string; args: string };
type Stage = { name: string | undefined; from: string; instructions: Instruction[] };

/** Dockerfile instructions, with line continuations joined and comments dropped. */
function instructionsOf(text: string): Instruction[] {
  const joined = text
    .split("\n")
    .filter((line) => !/^\s*#/.test(line))
    .join("\n")
    .replace(/\\\n/g, " ");
  return joined
    .split("\n")
    .map((line) => /^\s*([A-Za-z]+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ keyword: (m[1] ?? "").toUpperCase(), args: (m[2] ?? "").replace(/\s+/g, " ").trim() }));
}

function stagesOf(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of instructionsOf(text)) {
    if (instruction.keyword === "FROM") {
      const [from = "", as, name] = instruction.args.split(/\s+/).filter((p) => !p.startsWith("--"));
      stages.push({ name: as?.toUpperCase() === "AS" ? name : undefined, from, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** Variable names an ENV or ARG instruction sets (`ENV A=1 B=2`, `ENV A 1`, `ARG A`, `ARG A=1`). */
function namesSetBy(instruction: Instruction): string[] {
  if (instruction.keyword === "ARG") return [instruction.args.split("=")[0] ?? ""];
  if (!instruction.args.includes("=")) return [instruction.args.split(/\s+/)[0] ?? ""];
  return [...instruction.args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1] ?? "");
}

const dockerfile = readInfra("Dockerfile");
const stages = stagesOf(dockerfile);
const stage = (name: string) =>
  present(
    stages.find((s) => s.name === name),
    `stage ${name}`,
  );

/** The stage's instructions after those of every stage it is built FROM. */
function lineage(name: string): Instruction[] {
  const current = stage(name);
  const parent = stages.find((s) => s.name === current.from);
  return [...(parent?.name ? lineage(parent.name) : []), ...current.instructions];
}

describe("infra/Dockerfile", () => {
  it("has a build stage and one runtime target per app", () => {
    expect(stages.map((s) => s.name)).toEqual(["build", "runtime", "api", "worker", "slack-bot"]);
  });

  it("pins every base image to a tag, and uses Node 20 on Debian bookworm (slim)", () => {
    const stageNames = new Set(stages.map((s) => s.name));
    const external = stages.filter((s) => !stageNames.has(s.from)).map((s) => s.from);
    expect(external).toEqual(["node:20-bookworm-slim", "node:20-bookworm-slim"]);
    for (const image of external) {
      const tag = /^[^@]+:([^:/@]+)(@sha256:[0-9a-f]{64})?$/.exec(image)?.[1];
      expect(tag, image).toBeDefined();
      expect(tag).not.toBe("latest");
    }
    // The other stages build on these (a typo in a stage name would pull an image of that name).
    for (const s of stages.filter((s) => stageNames.has(s.from))) expect(s.from).toBe("runtime");
  });

  it("installs the pnpm version the repository pins, from the lockfile, and deploys production dependencies only", () => {
    const packageManager = JSON.parse(readRepo("package.json")).packageManager as string;
    expect(packageManager).toMatch(/^pnpm@/);
    const run = stage("build")
      .instructions.filter((i) => i.keyword === "RUN")
      .map((i) => i.args)
      .join("\n");
    expect(run).toContain(`npm install --global --no-fund --no-audit ${packageManager}`);
    expect(run).toMatch(/pnpm install --frozen-lockfile/);
    expect(run).toMatch(/pnpm build/);
    expect(run).toMatch(/pnpm --filter "@leasehold\/\$\{app\}" deploy [^\n]*--prod/);
    expect(run).toMatch(/for app in api worker slack-bot/);
  });

  it.each(["api", "worker", "slack-bot"])("runs %s as a non-root user with NODE_ENV=production", (app) => {
    const instructions = lineage(app);
    const users = instructions.filter((i) => i.keyword === "USER").map((i) => i.args);
    const user = present(users.at(-1), `${app} USER`);
    expect(user.split(":")[0]).not.toMatch(/^(root|0)$/);
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/); // numeric, so Kubernetes can check runAsNonRoot
    const env = instructions.filter((i) => i.keyword === "ENV").map((i) => i.args);
    expect(env.join(" ")).toMatch(/\bNODE_ENV=production\b/);
    const cmd = instructions.filter((i) => i.keyword === "CMD").at(-1)?.args;
    expect(cmd).toBe('["node", "dist/main.js"]');
    const copy = stage(app).instructions.find((i) => i.keyword === "COPY")?.args;
    expect(copy).toBe(`--from=build --chown=0:0 /out/${app} /app`);
  });

  it("sets no secret-looking variable in any ENV or ARG", () => {
    const set = stages.flatMap((s) =>
      s.instructions.filter((i) => i.keyword === "ENV" || i.keyword === "ARG").flatMap(namesSetBy),
    );
    expect(set).toEqual(expect.arrayContaining(["NODE_ENV", "HOST", "PORT", "SLACK_BOT_PORT"]));
    expect(set.filter(isSecretName)).toEqual([]);
  });

  it("the ENV parser sees secrets in every form ENV can take", () => {
    const names = instructionsOf(
      'ENV A=1 \\\n    LEASEHOLD_MASTER_KEY=x\nENV SLACK_BOT_TOKEN xoxb\nARG VAULT_TOKEN\nENV B="a b" DATABASE_URL=x\n',
    ).flatMap(namesSetBy);
    expect(names.filter(isSecretName)).toEqual([
      "LEASEHOLD_MASTER_KEY",
      "SLACK_BOT_TOKEN",
      "VAULT_TOKEN",
      "DATABASE_URL",
    ]);
  });

  it("listens where the apps are told to, and health-checks the API on /healthz", () => {
    const api = lineage("api");
    expect(api.filter((i) => i.keyword === "ENV").map((i) => i.args)).toContainEqual(
      "HOST=0.0.0.0 PORT=8080",
    );
    expect(api.find((i) => i.keyword === "EXPOSE")?.args).toBe("8080");
    const healthcheck = present(
      api.find((i) => i.keyword === "HEALTHCHECK"),
      "HEALTHCHECK",
    ).args;
    expect(healthcheck).toContain("/healthz");
    expect(healthcheck).toContain("process.env.PORT || 8080");
    const bot = lineage("slack-bot");
    expect(bot.filter((i) => i.keyword === "ENV").map((i) => i.args)).toContainEqual(
      "SLACK_BOT_HOST=0.0.0.0 SLACK_BOT_PORT=3000",
    );
    expect(bot.find((i) => i.keyword === "EXPOSE")?.args).toBe("3000");
    expect(lineage("worker").some((i) => i.keyword === "EXPOSE")).toBe(false);
  });

  it("keeps local state, env files and dependencies out of the build context", () => {
    const ignored = readInfra("Dockerfile.dockerignore")
      .split("\n")
      .filter((line) => line && !line.startsWith("#"));
    expect(ignored).toEqual(
      expect.arrayContaining([
        ".git",
        ".leasehold",
        "**/.leasehold",
        "**/node_modules",
        "**/.env",
        "**/.env.*",
      ]),
    );
    expect(ignored).toContain("infra/compose.env");
  });
});
