import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  adminUrlEnvs,
  appEnvKeys,
  hasUrlCredentials,
  isAwsSdkVariable,
  isObject,
  isSecretName,
  type JsonObject,
  objectAt,
  present,
  readInfra,
  readRepo,
} from "./support.js";

const compose = parse(readInfra("compose.yaml"), { merge: true }) as JsonObject;
const services = objectAt(compose, "services", "compose.yaml");
const service = (name: string) => objectAt(services, name, "compose.yaml services");

const APPS = ["api", "worker", "slack-bot"] as const;
const INFRASTRUCTURE = ["redis", "postgres", "vault"] as const;
/** Prometheus and Grafana, under `--profile metrics`. */
const MONITORING = ["prometheus", "grafana"] as const;

/** A service's `environment`, in either of compose's two forms, as a map. */
function environmentOf(definition: JsonObject): Record<string, string> {
  const env = definition.environment;
  if (env === undefined) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const [key, ...rest] = String(entry).split("=");
        return [key ?? "", rest.join("=")];
      }),
    );
  }
  if (!isObject(env)) throw new Error("environment must be a map or a list");
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

/** The env_file paths of a service, in either of compose's two forms. */
function envFilesOf(definition: JsonObject): string[] {
  const files = definition.env_file;
  if (files === undefined) return [];
  const list = Array.isArray(files) ? files : [files];
  return list.map((f) => (isObject(f) ? String(f.path) : String(f)));
}

/** compose.env.example as name → value; `# NAME=value` lines are optional settings and count as listed. */
function exampleVariables(): { all: Map<string, string>; active: Map<string, string> } {
  const all = new Map<string, string>();
  const active = new Map<string, string>();
  for (const line of readInfra("compose.env.example").split("\n")) {
    const match = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!match?.[2]) continue;
    all.set(match[2], match[3] ?? "");
    if (!match[1]) active.set(match[2], match[3] ?? "");
  }
  return { all, active };
}

/** Stage names defined in infra/Dockerfile (`FROM … AS name`). */
const dockerfileStages = [...readInfra("Dockerfile").matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map(
  (m) => m[1],
);

describe("compose.yaml", () => {
  it("runs Redis, PostgreSQL, Vault and the three apps, and Prometheus and Grafana on request", () => {
    expect(Object.keys(services).sort()).toEqual([...APPS, ...INFRASTRUCTURE, ...MONITORING].sort());
    for (const name of MONITORING) expect(service(name).profiles, name).toEqual(["metrics"]);
  });

  it("pins every image to a tag (never latest), and builds each app from its Dockerfile target", () => {
    for (const [name, raw] of Object.entries(services)) {
      const definition = present(isObject(raw) ? raw : undefined, name);
      const image = String(present(definition.image, `${name}.image`));
      const tag = /^[^@]+:([^:/@]+)$/.exec(image)?.[1];
      expect(tag, `${name} image ${image} has a tag`).toBeDefined();
      expect(tag, `${name} image tag`).not.toBe("latest");
      if ((APPS as readonly string[]).includes(name)) {
        const build = objectAt(definition, "build", name);
        expect(build).toMatchObject({ context: "..", dockerfile: "infra/Dockerfile", target: name });
        expect(dockerfileStages, `Dockerfile stage ${name}`).toContain(name);
      }
    }
  });

  it("publishes only the API's, the bot's and Grafana's ports, on 127.0.0.1 only", () => {
    const published = Object.entries(services).filter(([, raw]) => isObject(raw) && raw.ports !== undefined);
    expect(published.map(([name]) => name).sort()).toEqual(["api", "grafana", "slack-bot"]);
    for (const [name, raw] of published) {
      const ports = isObject(raw) && Array.isArray(raw.ports) ? raw.ports : [];
      expect(ports.length, name).toBeGreaterThan(0);
      for (const port of ports) {
        if (isObject(port)) expect(port.host_ip, `${name} port`).toBe("127.0.0.1");
        else expect(String(port), `${name} port`).toMatch(/^127\.0\.0\.1:\d+:\d+(\/tcp)?$/);
      }
    }
    expect(service("api").ports).toEqual(["127.0.0.1:8080:8080"]);
    expect(service("slack-bot").ports).toEqual(["127.0.0.1:3000:3000"]);
    expect(service("grafana").ports).toEqual(["127.0.0.1:3001:3000"]);
  });

  it("Prometheus scrapes each app where its /metrics listens, and loads the alert rules", () => {
    const prometheus = parse(readInfra("prometheus/prometheus.yml")) as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = prometheus.scrape_configs.flatMap((job) => job.static_configs.flatMap((c) => c.targets));
    expect(targets).toEqual([
      `api:${environmentOf(service("api")).PORT}`,
      `worker:${environmentOf(service("worker")).METRICS_PORT}`,
      `slack-bot:${environmentOf(service("slack-bot")).METRICS_PORT}`,
    ]);
    for (const app of ["worker", "slack-bot"]) {
      expect(environmentOf(service(app)).METRICS_HOST, app).toBe("0.0.0.0");
    }
    expect(prometheus.rule_files).toEqual(["/etc/prometheus/alerts.yaml"]);
    expect(service("prometheus").volumes).toContain("./prometheus:/etc/prometheus:ro");
    // Grafana never gets compose.env, where Leasehold's secrets are.
    expect(envFilesOf(service("grafana"))).toEqual([]);
  });

  it("the published ports are the ones the apps listen on", () => {
    expect(environmentOf(service("api"))).toMatchObject({ HOST: "0.0.0.0", PORT: "8080" });
    expect(environmentOf(service("slack-bot"))).toMatchObject({
      SLACK_BOT_HOST: "0.0.0.0",
      SLACK_BOT_PORT: "3000",
    });
  });

  it("has health checks on postgres, redis, vault and the API", () => {
    for (const name of ["postgres", "redis", "vault", "api"]) {
      const test = objectAt(service(name), "healthcheck", name).test;
      expect(Array.isArray(test) && test.length > 1 && test[0] !== "NONE", `${name} healthcheck`).toBe(true);
    }
    expect(JSON.stringify(service("api").healthcheck)).toMatch(/\/readyz|\/healthz/);
  });

  it("starts each app only once its dependencies are healthy", () => {
    for (const app of APPS) {
      const dependsOn = objectAt(service(app), "depends_on", app);
      expect(Object.keys(dependsOn), app).toEqual(expect.arrayContaining(["postgres", "redis"]));
      for (const [dependency, condition] of Object.entries(dependsOn)) {
        expect(condition, `${app} → ${dependency}`).toMatchObject({ condition: "service_healthy" });
        // service_healthy on a service without a health check would wait forever.
        expect(service(dependency).healthcheck, `${dependency} healthcheck`).toBeDefined();
      }
    }
  });

  it("keeps secrets out of the file: every secret comes from compose.env", () => {
    for (const [name, raw] of Object.entries(services)) {
      const definition = present(isObject(raw) ? raw : undefined, name);
      for (const [key, value] of Object.entries(environmentOf(definition))) {
        expect(isSecretName(key), `${name} sets ${key} inline`).toBe(false);
        expect(hasUrlCredentials(value), `${name} ${key} holds credentials`).toBe(false);
        expect(value, `${name} ${key}`).not.toMatch(/xox[abpe]-|^hvs\.|REPLACE_ME/);
      }
      expect(JSON.stringify(definition.command ?? ""), `${name} command`).not.toMatch(/token|password/i);
    }
    for (const name of [...APPS, "postgres", "vault"]) {
      expect(envFilesOf(service(name)), name).toEqual(["compose.env"]);
    }
    // compose.env holds the real values: it must never be committed.
    expect(readInfra(".gitignore").split("\n")).toContain("compose.env");
  });

  it("the secret check itself catches an inline secret", () => {
    expect(isSecretName("LEASEHOLD_MASTER_KEY")).toBe(true);
    expect(isSecretName("SLACK_SIGNING_SECRET")).toBe(true);
    expect(isSecretName("DATABASE_URL")).toBe(true);
    expect(isSecretName("LOG_LEVEL")).toBe(false);
    expect(hasUrlCredentials("postgres://leasehold:hunter2@postgres:5432/leasehold")).toBe(true);
    expect(hasUrlCredentials("redis://redis:6379")).toBe(false);
  });

  it("mounts leasehold.yaml read-only where LEASEHOLD_CONFIG points", () => {
    for (const app of APPS) {
      const definition = service(app);
      const volumes = Array.isArray(definition.volumes) ? definition.volumes : [];
      const config = volumes.find((v) => isObject(v) && v.source === "./leasehold.yaml");
      expect(config, `${app} mounts leasehold.yaml`).toMatchObject({ type: "bind", read_only: true });
      const target = isObject(config) ? config.target : undefined;
      expect(environmentOf(definition).LEASEHOLD_CONFIG, app).toBe(target);
      expect(definition.read_only, `${app} read-only root filesystem`).toBe(true);
      expect(definition.cap_drop, `${app} drops capabilities`).toEqual(["ALL"]);
    }
  });

  it("sets only variables the apps read", () => {
    const known = appEnvKeys();
    for (const app of APPS) {
      for (const key of Object.keys(environmentOf(service(app)))) {
        expect(known.has(key) || isAwsSdkVariable(key), `${app} sets ${key}, which nothing reads`).toBe(true);
      }
    }
  });

  it("runs Vault in dev mode only, said so in a comment", () => {
    expect(service("vault").image).toBe("hashicorp/vault:1.17");
    expect(service("vault").command).toEqual(["server", "-dev"]);
    expect(readInfra("compose.yaml")).toMatch(/DEV MODE[\s\S]{0,200}LOCAL USE ONLY/i);
  });
});

describe("compose.env.example", () => {
  const { all, active } = exampleVariables();

  it("lists every variable the apps read", () => {
    const keys = appEnvKeys();
    // The extraction must have found the variables; an empty set would make this test pass vacuously.
    expect([...keys]).toEqual(
      expect.arrayContaining(["DATABASE_URL", "REDIS_URL", "LEASEHOLD_MASTER_KEY", "LEASEHOLD_CONFIG"]),
    );
    expect(keys.size).toBeGreaterThanOrEqual(20);
    const missing = [...keys].filter((key) => !all.has(key));
    expect(missing).toEqual([]);
  });

  it("lists the admin URL variable of every sql target and rotation in leasehold.example.yaml", () => {
    const names = adminUrlEnvs(readRepo("leasehold.example.yaml"));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(active.has(name), name).toBe(true);
  });

  it("lists nothing that no one reads (catches misspelt names)", () => {
    const readers = new Set([
      ...appEnvKeys(),
      ...adminUrlEnvs(readRepo("leasehold.example.yaml")),
      "POSTGRES_PASSWORD", // the postgres image
      "VAULT_DEV_ROOT_TOKEN_ID", // the vault image in dev mode
    ]);
    for (const key of all.keys()) {
      expect(readers.has(key) || isAwsSdkVariable(key), `${key} is read by nothing`).toBe(true);
    }
  });

  it("holds placeholders only: every secret is empty or says REPLACE_ME", () => {
    const secrets = [...all].filter(([key]) => isSecretName(key));
    expect(secrets.length).toBeGreaterThan(5);
    for (const [key, value] of secrets) {
      expect(value === "" || value.includes("REPLACE_ME"), `${key}=${value}`).toBe(true);
    }
  });

  it("says how to generate the master key", () => {
    expect(readInfra("compose.env.example")).toContain("openssl rand -base64 32");
    expect(active.has("LEASEHOLD_MASTER_KEY")).toBe(true);
  });

  it("gives the apps and PostgreSQL the same database password placeholder", () => {
    const password = present(active.get("POSTGRES_PASSWORD"), "POSTGRES_PASSWORD");
    expect(active.get("DATABASE_URL")).toBe(`postgres://leasehold:${password}@postgres:5432/leasehold`);
    expect(active.get("VAULT_TOKEN")).toBe(active.get("VAULT_DEV_ROOT_TOKEN_ID"));
  });
});
