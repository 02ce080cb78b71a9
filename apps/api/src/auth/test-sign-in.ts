import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Broker, createBroker, createCredentialCipher, targetCatalog } from "@leasehold/broker";
import { parseConfig } from "@leasehold/config";
import { createStore, type Database } from "@leasehold/db";
import { policyEngineFor } from "@leasehold/policy";
import { providerRegistry } from "@leasehold/providers";
import { type OidcIssuer, startOidcIssuer } from "@leasehold/sandbox";
import { createPostgresDatabase, TEST_CONFIG } from "@leasehold/test-kit";
import { pino } from "pino";
import { startApi } from "../start-api.js";

/** The console's client at the stand-in, and the CLI's. */
export const CONSOLE_CLIENT = { clientId: "leasehold-console", clientSecret: "console-client-secret" };
export const CLI_CLIENT_ID = "leasehold-cli";

export const PEOPLE = {
  dev: { sub: "sub-dev", email: "dev@example.com", name: "Dev", groups: ["engineering"] },
  sec: { sub: "sub-sec", email: "sec@example.com", name: "Sec", groups: ["security"] },
};

/** Targets whose approvals need a recent sign-in (the second, also one of a class the stand-in does not report). */
const STEP_UP_TARGET = `  - id: prod-admin
    kind: aws-role
    requesters: { groups: [engineering] }
    approvers: { groups: [sre] }
    maxDuration: 1h
    stepUp: { maxAge: 5m }
    aws: { roleArn: "arn:aws:iam::123456789012:role/ProdAdmin" }
  - id: prod-mfa
    kind: aws-role
    requesters: { groups: [engineering] }
    approvers: { groups: [sre] }
    maxDuration: 1h
    stepUp: { maxAge: 2m, acr: "urn:leasehold:mfa" }
    aws: { roleArn: "arn:aws:iam::123456789012:role/ProdMfa" }
`;

/** A built console's shape: index.html and one hashed asset. */
export const INDEX_HTML =
  '<!doctype html><html><head><script type="module" src="/assets/app-3f9a.js"></script></head><body><div id="root"></div></body></html>';

function consoleDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "leasehold-console-"));
  mkdirSync(join(dir, "assets"));
  writeFileSync(join(dir, "index.html"), INDEX_HTML);
  writeFileSync(join(dir, "assets", "app-3f9a.js"), "export {};\n");
  return dir;
}

export type SignInStack = {
  readonly issuer: OidcIssuer;
  readonly db: Database;
  readonly broker: Broker;
  readonly api: string;
  /** Another API replica on the same database, with the first one's address as its public URL. */
  readonly replica: string;
  close(): Promise<void>;
};

/** The stand-in IdP, a real PostgreSQL database, and the API as startApi serves it (console included). */
export async function startSignInStack(options: { insecureCookies: boolean }): Promise<SignInStack> {
  const issuer = await startOidcIssuer({
    people: [PEOPLE.dev, PEOPLE.sec],
    clients: [
      { ...CONSOLE_CLIENT, redirectUris: [] },
      { clientId: CLI_CLIENT_ID, redirectUris: [] },
    ],
  });
  const yaml = `${TEST_CONFIG}${STEP_UP_TARGET}`
    .replaceAll("{issuer}", issuer.url)
    .replace(
      "    audience: leasehold\n",
      `    audience: leasehold\n    login: { clientId: ${CONSOLE_CLIENT.clientId}, clientSecretEnv: CONSOLE_SECRET, cliClientId: ${CLI_CLIENT_ID} }\n`,
    );
  const config = parseConfig(yaml, "test.yaml");
  const db = await createPostgresDatabase();
  const targets = targetCatalog(config.targets);
  const log = pino({ level: "silent" });
  const broker = createBroker({
    store: createStore(db, { keyId: "k1", auditKey: Buffer.alloc(32, 1), grantKey: Buffer.alloc(32, 2) }),
    targets,
    providers: providerRegistry([]),
    queues: { issue: async () => {}, expireAt: async () => {}, revoke: async () => {} },
    cipher: createCredentialCipher({ id: "k1", key: Buffer.alloc(32, 2) }),
    clock: () => new Date(),
    newId: randomUUID,
    policy: policyEngineFor({ targets: targets.list(), admins: config.admins }),
    log,
  });
  const provider = config.identityProviders[0];
  if (!provider) throw new Error("the test config has no identity provider");
  const serve = (publicUrl?: string) =>
    startApi({
      useCases: broker,
      readiness: {},
      identityProviders: config.identityProviders,
      host: "127.0.0.1",
      port: 0,
      log,
      rateLimits: { store: { kind: "postgres", database: db }, rates: config.limits.rates },
      insecureCookies: options.insecureCookies,
      consoleDir: consoleDir(),
      login: { provider, clientSecret: CONSOLE_CLIENT.clientSecret },
      targets: config.targets,
      publicUrl,
    });
  const api = await serve();
  // A second replica on the same database, whose public URL is the first's (as behind one load balancer).
  const replica = await serve(api.address);
  issuer.allowRedirectUri(CONSOLE_CLIENT.clientId, `${api.address}/auth/callback`);
  return {
    issuer,
    db,
    broker,
    api: api.address,
    replica: replica.address,
    close: async () => {
      await replica.close();
      await api.close();
      await db.close();
      await issuer.close();
    },
  };
}

/** The value of cookie `name` among a response's Set-Cookie headers, and the whole header. */
export function setCookie(response: Response, name: string): { value: string; header: string } | undefined {
  const header = response.headers.getSetCookie().find((h) => h.startsWith(`${name}=`));
  if (!header) return undefined;
  return { value: decodeURIComponent(header.slice(name.length + 1).split(";", 1)[0] ?? ""), header };
}

/** The callback URL the IdP sends the browser to after `person` signs in, and the login cookie. */
export async function throughLoginPage(
  stack: SignInStack,
  person: keyof typeof PEOPLE,
  options: { cookieName: string; loginPath?: string; decision?: "deny"; at?: string },
): Promise<{ callback: string; loginCookie: string }> {
  const start = await fetch(
    `${options.at ?? stack.api}${options.loginPath ?? "/auth/login?returnTo=/grants"}`,
    {
      redirect: "manual",
    },
  );
  if (start.status !== 302) throw new Error(`/auth/login answered ${start.status}`);
  const login = setCookie(start, "leasehold-login");
  const authorize = start.headers.get("location") ?? "";
  const page = await (await fetch(authorize)).text();
  const pending = /name="pending" value="([^"]+)"/.exec(page)?.[1];
  if (!pending || !login) throw new Error("the login page or the login cookie is missing");
  const form = new URLSearchParams({ pending });
  if (options.decision) form.set("decision", options.decision);
  else form.set("person", PEOPLE[person].sub);
  const chosen = await fetch(`${stack.issuer.url}/authorize`, {
    method: "POST",
    body: form,
    redirect: "manual",
  });
  return { callback: chosen.headers.get("location") ?? "", loginCookie: `leasehold-login=${login.value}` };
}

/** A complete sign-in as `person`: the session cookie (`name=value`) and the callback's response. */
export async function signIn(stack: SignInStack, person: keyof typeof PEOPLE, cookieName: string) {
  const { callback, loginCookie } = await throughLoginPage(stack, person, { cookieName });
  const response = await fetch(callback, { headers: { cookie: loginCookie }, redirect: "manual" });
  const session = setCookie(response, cookieName);
  if (!session) throw new Error(`the callback answered ${response.status} without a session cookie`);
  return { cookie: `${cookieName}=${session.value}`, response, setCookieHeader: session.header };
}
