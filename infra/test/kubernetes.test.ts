import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
// The real loader, so a ConfigMap the apps would refuse at start fails here first.
import { parseConfig } from "../../packages/config/src/load-config.js";
import {
  adminUrlEnvs,
  appEnvKeys,
  arrayAt,
  infraFiles,
  isAwsSdkVariable,
  isObject,
  isSecretName,
  type Json,
  type JsonObject,
  objectAt,
  present,
  readInfra,
} from "./support.js";

type Manifest = JsonObject & { kind: string; metadata: JsonObject };

const manifestFiles = infraFiles((path) => path.startsWith("kubernetes/") && /\.ya?ml$/.test(path));
const manifests: (Manifest & { file: string })[] = manifestFiles.flatMap((file) => {
  const documents = parseAllDocuments(readInfra(file));
  if (!Array.isArray(documents)) return [];
  return documents
    .map((document) => document.toJS() as unknown)
    .filter((value): value is Manifest => isObject(value) && typeof value.kind === "string")
    .map((manifest) => ({ ...manifest, file }));
});

const ofKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const named = (kind: string, name: string) =>
  present(
    ofKind(kind).find((m) => m.metadata.name === name),
    `${kind} ${name}`,
  );

const APPS = ["api", "worker", "slack-bot"] as const;
const SECRET = "leasehold-secrets";

const podSpecOf = (deployment: Manifest) =>
  objectAt(objectAt(objectAt(deployment, "spec", "Deployment"), "template", "spec"), "spec", "template");
const podLabelsOf = (deployment: Manifest) =>
  objectAt(
    objectAt(
      objectAt(objectAt(deployment, "spec", "Deployment"), "template", "spec"),
      "metadata",
      "template",
    ),
    "labels",
    "template metadata",
  );
const containersOf = (deployment: Manifest) =>
  arrayAt(podSpecOf(deployment), "containers", "pod spec").filter(isObject);
const deploymentOf = (app: string) => named("Deployment", `leasehold-${app}`);

type EnvVar = { name: string; value?: string; valueFrom?: JsonObject };
const envOf = (container: JsonObject): EnvVar[] =>
  (Array.isArray(container.env) ? container.env : []).filter(isObject).map((e) => ({
    name: String(e.name),
    ...(e.value !== undefined ? { value: String(e.value) } : {}),
    ...(isObject(e.valueFrom) ? { valueFrom: e.valueFrom } : {}),
  }));
const secretKeyOf = (env: EnvVar) => {
  const ref = env.valueFrom?.secretKeyRef;
  return isObject(ref)
    ? { name: String(ref.name), key: String(ref.key), optional: ref.optional === true }
    : undefined;
};

/** Whether a NetworkPolicy's podSelector selects pods with `labels`. */
function selects(policy: Manifest, labels: JsonObject): boolean {
  const selector = objectAt(policy, "spec", "NetworkPolicy").podSelector;
  const match = isObject(selector) && isObject(selector.matchLabels) ? selector.matchLabels : {};
  return Object.entries(match).every(([k, v]) => labels[k] === v);
}

const portsOfRules = (rules: Json[]) =>
  rules
    .filter(isObject)
    .flatMap((rule) => (Array.isArray(rule.ports) ? rule.ports : []))
    .filter(isObject)
    .map((p) => Number(p.port));

describe("Kubernetes manifests", () => {
  it("has one file per concern", () => {
    expect(manifestFiles).toEqual([
      "kubernetes/api.yaml",
      "kubernetes/configmap.yaml",
      "kubernetes/namespace.yaml",
      "kubernetes/networkpolicies.yaml",
      "kubernetes/slack-bot.yaml",
      "kubernetes/worker.yaml",
    ]);
    expect(ofKind("Deployment").map((d) => d.file)).toEqual([
      "kubernetes/api.yaml",
      "kubernetes/slack-bot.yaml",
      "kubernetes/worker.yaml",
    ]);
  });

  it("puts everything in the leasehold namespace, which enforces the restricted pod security profile", () => {
    const namespace = named("Namespace", "leasehold");
    expect(namespace.metadata.labels).toMatchObject({ "pod-security.kubernetes.io/enforce": "restricted" });
    for (const manifest of manifests.filter((m) => m.kind !== "Namespace")) {
      expect(manifest.metadata.namespace, `${manifest.kind} ${manifest.metadata.name}`).toBe("leasehold");
    }
  });

  describe.each(APPS)("the %s Deployment", (app) => {
    const deployment = deploymentOf(app);
    const pod = podSpecOf(deployment);
    const containers = containersOf(deployment);

    it("runs as a non-root user, with a read-only root filesystem and no capabilities", () => {
      const podSecurity = objectAt(pod, "securityContext", app);
      expect(podSecurity.runAsNonRoot).toBe(true);
      expect(Number(podSecurity.runAsUser)).toBeGreaterThan(0);
      expect(podSecurity.seccompProfile).toEqual({ type: "RuntimeDefault" });
      expect(containers.length).toBeGreaterThan(0);
      for (const container of containers) {
        const security = objectAt(container, "securityContext", `${app} container`);
        expect(security.runAsNonRoot).not.toBe(false);
        expect(security.runAsUser ?? podSecurity.runAsUser).not.toBe(0);
        expect(security.readOnlyRootFilesystem).toBe(true);
        expect(security.allowPrivilegeEscalation).toBe(false);
        expect(objectAt(security, "capabilities", app).drop).toEqual(["ALL"]);
        expect(objectAt(security, "capabilities", app).add).toBeUndefined();
      }
    });

    it("requests and limits CPU and memory", () => {
      for (const container of containers) {
        const resources = objectAt(container, "resources", app);
        for (const section of ["requests", "limits"]) {
          expect(objectAt(resources, section, app)).toEqual(
            expect.objectContaining({ cpu: expect.anything(), memory: expect.anything() }),
          );
        }
      }
    });

    it("has its own ServiceAccount, with no API token mounted", () => {
      expect(pod.serviceAccountName).toBe(`leasehold-${app}`);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(named("ServiceAccount", `leasehold-${app}`).automountServiceAccountToken).toBe(false);
    });

    it("pins its image to a version", () => {
      for (const container of containers) {
        const image = String(container.image);
        const tag = /^[^@]+:([^:/@]+)$/.exec(image)?.[1];
        expect(tag, image).toBeDefined();
        expect(tag).not.toBe("latest");
        expect(image).toContain(app);
      }
    });

    it("mounts leasehold.yaml from the ConfigMap where LEASEHOLD_CONFIG points, read-only", () => {
      const [container] = containers;
      const env = envOf(present(container, app));
      expect(env.find((e) => e.name === "LEASEHOLD_CONFIG")?.value).toBe("/etc/leasehold/leasehold.yaml");
      const mounts = arrayAt(container, "volumeMounts", app).filter(isObject);
      const config = present(
        mounts.find((m) => m.mountPath === "/etc/leasehold"),
        "config mount",
      );
      expect(config.readOnly).toBe(true);
      const volume = arrayAt(pod, "volumes", app)
        .filter(isObject)
        .find((v) => v.name === config.name);
      expect(volume?.configMap).toMatchObject({ name: "leasehold-config" });
    });

    it("takes every secret from the Secret leasehold-secrets, never from a literal value", () => {
      const known = appEnvKeys();
      const adminUrls = adminUrlEnvs(configMapPolicy());
      for (const container of containers) {
        const env = envOf(container);
        const names = env.map((e) => e.name);
        expect(names).toEqual(expect.arrayContaining(["LEASEHOLD_MASTER_KEY", "DATABASE_URL", "REDIS_URL"]));
        for (const variable of env) {
          expect(
            known.has(variable.name) || isAwsSdkVariable(variable.name) || adminUrls.includes(variable.name),
            `${app} sets ${variable.name}, which nothing reads`,
          ).toBe(true);
          if (isSecretName(variable.name) || variable.name === "REDIS_URL") {
            expect(variable.value, `${app} ${variable.name} is a literal`).toBeUndefined();
            expect(secretKeyOf(variable), `${app} ${variable.name}`).toMatchObject({
              name: SECRET,
              key: variable.name,
            });
          }
        }
        for (const required of ["LEASEHOLD_MASTER_KEY", "DATABASE_URL", "REDIS_URL"]) {
          const variable = present(
            env.find((e) => e.name === required),
            required,
          );
          expect(secretKeyOf(variable)?.optional, `${app} ${required} is required`).toBe(false);
        }
        expect(container.envFrom, "whole-Secret imports would hand every app every secret").toBeUndefined();
      }
    });

    it("is given the admin URL of every sql target the ConfigMap's policy names", () => {
      const adminUrls = adminUrlEnvs(configMapPolicy());
      expect(adminUrls.length).toBeGreaterThan(0);
      const names = containers.flatMap((c) => envOf(c).map((e) => e.name));
      for (const name of adminUrls) expect(names, `${app} ${name}`).toContain(name);
    });
  });

  it("the API listens on 0.0.0.0:8080, probes /healthz and /readyz, and its Service targets that port", () => {
    const [container] = containersOf(deploymentOf("api"));
    const api = present(container, "api container");
    const env = envOf(api);
    expect(env.find((e) => e.name === "HOST")?.value).toBe("0.0.0.0");
    expect(env.find((e) => e.name === "PORT")?.value).toBe("8080");
    expect(arrayAt(api, "ports", "api")).toEqual([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
    expect(objectAt(objectAt(api, "livenessProbe", "api"), "httpGet", "liveness")).toEqual({
      path: "/healthz",
      port: "http",
    });
    expect(objectAt(objectAt(api, "readinessProbe", "api"), "httpGet", "readiness")).toEqual({
      path: "/readyz",
      port: "http",
    });
    const service = named("Service", "leasehold-api");
    expect(arrayAt(objectAt(service, "spec", "Service"), "ports", "Service")).toEqual([
      { name: "http", port: 8080, targetPort: "http", protocol: "TCP" },
    ]);
  });

  it("the bot listens on 0.0.0.0:3000 with its Slack credentials, and its Service targets that port", () => {
    const [container] = containersOf(deploymentOf("slack-bot"));
    const bot = present(container, "bot container");
    const env = envOf(bot);
    expect(env.find((e) => e.name === "SLACK_BOT_HOST")?.value).toBe("0.0.0.0");
    expect(env.find((e) => e.name === "SLACK_BOT_PORT")?.value).toBe("3000");
    for (const name of ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]) {
      const variable = present(
        env.find((e) => e.name === name),
        name,
      );
      expect(secretKeyOf(variable)).toEqual({ name: SECRET, key: name, optional: false });
    }
    expect(arrayAt(bot, "ports", "bot")).toEqual([
      { name: "http", containerPort: 3000, protocol: "TCP" },
      { name: "metrics", containerPort: 9464, protocol: "TCP" },
    ]);
    const service = named("Service", "leasehold-slack-bot");
    expect(arrayAt(objectAt(service, "spec", "Service"), "ports", "Service")).toEqual([
      { name: "http", port: 3000, targetPort: "http", protocol: "TCP" },
    ]);
  });

  it("the ConfigMap's leasehold.yaml is a policy the apps accept", () => {
    expect(() => parseConfig(configMapPolicy(), "configmap.yaml")).not.toThrow();
    expect(() => parseConfig("targets: [{ id: Bad }]\n", "broken.yaml")).toThrow();
  });

  it("README lists every key of leasehold-secrets the manifests use", () => {
    const keys = new Set(
      ofKind("Deployment")
        .flatMap((d) => containersOf(d))
        .flatMap((c) => envOf(c))
        .map(secretKeyOf)
        .filter((ref) => ref?.name === SECRET)
        .map((ref) => ref?.key ?? ""),
    );
    expect(keys.size).toBeGreaterThan(5);
    const readme = readInfra("README.md");
    for (const key of keys) expect(readme, `README names ${key}`).toContain(`\`${key}\``);
  });
});

function configMapPolicy(): string {
  const data = objectAt(named("ConfigMap", "leasehold-config"), "data", "ConfigMap");
  return String(present(data["leasehold.yaml"], "leasehold.yaml in the ConfigMap"));
}

/** The NetworkPolicy that lets Prometheus scrape /metrics. */
const METRICS_POLICY = "metrics-ingress";

describe("Prometheus scraping", () => {
  it.each(APPS)("the %s pods are annotated for scraping on the port their /metrics listens on", (app) => {
    const template = objectAt(objectAt(deploymentOf(app), "spec", app), "template", app);
    const annotations = objectAt(objectAt(template, "metadata", app), "annotations", app);
    expect(annotations).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/path": "/metrics" });
    const [container] = containersOf(deploymentOf(app));
    const env = envOf(present(container, app));
    const port = app === "api" ? "PORT" : "METRICS_PORT";
    expect(env.find((e) => e.name === port)?.value, port).toBe(annotations["prometheus.io/port"]);
    if (app !== "api") expect(env.find((e) => e.name === "METRICS_HOST")?.value).toBe("0.0.0.0");
  });
});

describe("NetworkPolicies", () => {
  const policies = ofKind("NetworkPolicy");
  const PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

  it("deny all ingress and egress in the namespace by default", () => {
    const denyAll = policies.filter((p) => {
      const spec = objectAt(p, "spec", "NetworkPolicy");
      return (
        isObject(spec.podSelector) &&
        Object.keys(spec.podSelector).length === 0 &&
        Array.isArray(spec.policyTypes) &&
        spec.policyTypes.includes("Ingress") &&
        spec.policyTypes.includes("Egress") &&
        spec.ingress === undefined &&
        spec.egress === undefined
      );
    });
    expect(denyAll.map((p) => p.metadata.name)).toEqual(["default-deny-all"]);
  });

  it("let every pod resolve names (port 53, UDP and TCP)", () => {
    const dns = named("NetworkPolicy", "allow-dns-egress");
    const spec = objectAt(dns, "spec", "NetworkPolicy");
    expect(spec.podSelector).toEqual({});
    const ports = arrayAt(spec, "egress", "dns")
      .filter(isObject)
      .flatMap((rule) => (Array.isArray(rule.ports) ? rule.ports : []));
    expect(ports).toEqual(
      expect.arrayContaining([
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ]),
    );
  });

  const needs: Record<(typeof APPS)[number], number[]> = {
    // PostgreSQL, Redis, Vault, HTTPS (OIDC issuers, AWS), target databases (leases are issued in the API)
    api: [5432, 6379, 8200, 443, 3306],
    // PostgreSQL, Redis, Vault, HTTPS (AWS, Slack), target databases
    worker: [5432, 6379, 8200, 443, 3306],
    // PostgreSQL, Redis, HTTPS (Slack; AWS), and Vault and target databases: Extend re-issues in the bot
    "slack-bot": [5432, 6379, 443, 8200, 3306],
  };

  it.each(APPS)("give the %s an egress policy with what it needs and nothing on other ports", (app) => {
    const labels = podLabelsOf(deploymentOf(app));
    const egress = policies.filter((p) => {
      const spec = objectAt(p, "spec", "NetworkPolicy");
      return (
        Array.isArray(spec.policyTypes) &&
        spec.policyTypes.includes("Egress") &&
        isObject(spec.podSelector) &&
        Object.keys(spec.podSelector).length > 0 &&
        selects(p, labels)
      );
    });
    expect(egress.map((p) => p.metadata.name)).toEqual([`${app}-egress`]);
    const ports = portsOfRules(egress.flatMap((p) => arrayAt(objectAt(p, "spec", "np"), "egress", "egress")));
    expect(ports).toEqual(expect.arrayContaining(needs[app]));
    expect(
      ports.every((port) => [5432, 6379, 8200, 443, 3306].includes(port)),
      `${app}: ${ports}`,
    ).toBe(true);
    // Policies for other apps must not select this one's pods.
    for (const other of APPS.filter((a) => a !== app)) {
      expect(
        policies.some((p) => p.metadata.name === `${other}-egress` && selects(p, labels)),
        `${other}-egress selects ${app}`,
      ).toBe(false);
    }
  });

  it("keep HTTPS egress to the internet away from private and link-local ranges", () => {
    let checked = 0;
    for (const policy of policies) {
      const spec = objectAt(policy, "spec", "NetworkPolicy");
      const rules = Array.isArray(spec.egress) ? spec.egress : [];
      for (const rule of rules.filter(isObject)) {
        if (!portsOfRules([rule]).includes(443)) continue;
        for (const peer of (Array.isArray(rule.to) ? rule.to : []).filter(isObject)) {
          if (!isObject(peer.ipBlock) || peer.ipBlock.cidr !== "0.0.0.0/0") continue;
          expect(peer.ipBlock.except, String(policy.metadata.name)).toEqual(
            expect.arrayContaining([...PRIVATE, "169.254.0.0/16"]),
          );
          checked++;
        }
      }
    }
    expect(checked, "one internet HTTPS rule per app").toBe(APPS.length);
  });

  it("admit traffic only to the API's and the bot's ports, from the ingress controller's namespace", () => {
    const ingress = policies.filter((p) => {
      const spec = objectAt(p, "spec", "NetworkPolicy");
      return Array.isArray(spec.ingress) && p.metadata.name !== METRICS_POLICY;
    });
    expect(ingress.map((p) => p.metadata.name).sort()).toEqual(["api-ingress", "slack-bot-ingress"]);
    const expected = { "api-ingress": [8080, "api"], "slack-bot-ingress": [3000, "slack-bot"] } as const;
    for (const policy of ingress) {
      const [port, app] = expected[policy.metadata.name as keyof typeof expected];
      expect(selects(policy, podLabelsOf(deploymentOf(app)))).toBe(true);
      const rules = arrayAt(objectAt(policy, "spec", "np"), "ingress", "ingress");
      expect(portsOfRules(rules)).toEqual([port]);
      const peers = rules.filter(isObject).flatMap((r) => (Array.isArray(r.from) ? r.from : []));
      expect(JSON.stringify(peers)).toContain('"kubernetes.io/metadata.name":"ingress-nginx"');
      for (const peer of peers) {
        expect(isObject(peer) && peer.ipBlock === undefined, "no ipBlock ingress").toBe(true);
      }
    }
    // Nothing but the metrics scrape admits traffic to the worker.
    const worker = podLabelsOf(deploymentOf("worker"));
    expect(ingress.filter((p) => selects(p, worker))).toEqual([]);
  });

  it("admit Prometheus from the monitoring namespace to each app's metrics port, and nothing else", () => {
    const policy = named("NetworkPolicy", METRICS_POLICY);
    for (const app of APPS) expect(selects(policy, podLabelsOf(deploymentOf(app))), app).toBe(true);
    const rules = arrayAt(objectAt(policy, "spec", "np"), "ingress", "ingress");
    expect(portsOfRules(rules)).toEqual([8080, 9464]);
    const peers = rules.filter(isObject).flatMap((r) => (Array.isArray(r.from) ? r.from : []));
    expect(peers).toEqual([
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
    ]);
  });
});
