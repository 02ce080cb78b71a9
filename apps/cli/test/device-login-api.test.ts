import { randomUUID } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startApi } from "@leasehold/api/start-api";
import { createBroker, createCredentialCipher, targetCatalog } from "@leasehold/broker";
import { parseConfig } from "@leasehold/config";
import { createStore, type Database } from "@leasehold/db";
import { policyEngineFor } from "@leasehold/policy";
import { providerRegistry } from "@leasehold/providers";
import { type OidcIssuer, startOidcIssuer } from "@leasehold/sandbox";
import { createTestDatabase, TEST_CONFIG, testRedisUrl } from "@leasehold/test-kit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLIENT_ID,
  CLIENTS,
  DEV,
  deviceLogin,
  finished,
  newHome,
  startCli,
  tokenFile,
} from "./device-login-process.js";

/**
 * The device sign-in against the real API in-process (its token verifier, its `me`), with the OIDC stand-in as
 * the identity provider. This branch's API has no `/auth/cli` yet (the API's login work adds it), so a small
 * front answers that one path and passes everything else to the API unchanged.
 */
describe("leasehold login with the device grant, against the real API", { timeout: 60_000 }, () => {
  let issuer: OidcIssuer;
  let db: Database;
  let api: { address: string; close(): Promise<void> };
  let front: Server;
  let frontUrl = "";

  beforeAll(async () => {
    issuer = await startOidcIssuer({ people: [DEV], clients: CLIENTS, deviceCode: { intervalSeconds: 1 } });
    db = await createTestDatabase("pglite");
    // The CLI's ID tokens carry aud = its client id: that is the audience this API accepts.
    const yaml = TEST_CONFIG.replaceAll("{issuer}", issuer.url).replace(
      "audience: leasehold",
      `audience: ${CLIENT_ID}`,
    );
    const config = parseConfig(yaml, "test.yaml");
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
    api = await startApi({
      useCases: broker,
      readiness: { database: () => db.query("SELECT 1") },
      identityProviders: config.identityProviders,
      host: "127.0.0.1",
      port: 0,
      log,
      rateLimits: {
        store: { kind: "redis", redisUrl: testRedisUrl(), prefix: `cli-device-${randomUUID()}` },
        rates: config.limits.rates,
      },
    });
    front = createServer((req, res) => {
      if (req.url === "/auth/cli") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({ issuer: issuer.url, clientId: CLIENT_ID, scope: "openid email profile groups" }),
        );
        return;
      }
      const upstream = request(new URL(req.url ?? "/", api.address), {
        method: req.method,
        headers: req.headers,
      });
      upstream.on("response", (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on("error", () => res.writeHead(502).end());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
    frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  }, 120_000);
  afterAll(async () => {
    await new Promise<void>((resolve) => (front ? front.close(() => resolve()) : resolve()));
    await api?.close();
    await db?.close();
    await issuer?.close();
  });

  it("signs in, is who the ID token says, and refreshes it when it expires", async () => {
    const home = newHome();
    const { result } = await deviceLogin(home, frontUrl, issuer, "approve");
    expect(result, result.stderr).toMatchObject({ code: 0 });
    const whoami = await finished(startCli(home, frontUrl, "whoami"));
    expect(whoami, whoami.stderr).toMatchObject({ code: 0 });
    expect(whoami.stdout).toMatch(/^dev@example\.com \(human, corp; groups: engineering\)/);

    const path = tokenFile(home);
    const before = JSON.parse(readFileSync(path, "utf8"));
    writeFileSync(path, JSON.stringify({ ...before, expiresAt: new Date(Date.now() - 1000).toISOString() }));
    const refreshed = await finished(startCli(home, frontUrl, "whoami"));
    expect(refreshed, refreshed.stderr).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^dev@example\.com/),
    });
    const after = JSON.parse(readFileSync(path, "utf8"));
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(Date.parse(after.expiresAt)).toBeGreaterThan(Date.now() + 30 * 60_000);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
