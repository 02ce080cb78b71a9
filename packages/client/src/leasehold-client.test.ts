import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { keepLeaseRenewed } from "./lease-keeper.js";
import { createLeaseholdClient, LeaseholdError } from "./leasehold-client.js";

/**
 * The client's side of the protocol, against a small server that answers like the API (the real API
 * is exercised end to end in apps/api/test/leasing.test.ts).
 */
type Handler = (
  procedure: string,
  input: Record<string, unknown>,
  auth: string,
) => { status: number; body: unknown };

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function serve(handler: Handler): Promise<string> {
  const listening = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => {
      raw += chunk;
    });
    req.on("end", () => {
      const procedure = (req.url ?? "").replace("/trpc/", "");
      const { status, body } = handler(procedure, JSON.parse(raw || "{}"), req.headers.authorization ?? "");
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
  });
  server = listening;
  await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
}

const lease = (id: string, inSeconds: number) => ({
  id,
  targetId: "orders",
  state: "active",
  expiresAt: new Date(Date.now() + inSeconds * 1000).toISOString(),
});

describe("the application client", () => {
  it("sends a fresh token each call and the TTL as given, even 0", async () => {
    const seen: { procedure: string; input: Record<string, unknown>; auth: string }[] = [];
    const url = await serve((procedure, input, auth) => {
      seen.push({ procedure, input, auth });
      return {
        status: 400,
        body: { error: { message: "ttl must be at least 10", data: { code: "BAD_REQUEST" } } },
      };
    });
    let n = 0;
    const client = createLeaseholdClient({ url, token: () => `token-${++n}` });
    const error = await client.lease("orders", 0).catch((e: unknown) => e);
    await client.lease("orders").catch(() => {});
    expect(error).toBeInstanceOf(LeaseholdError);
    expect(error).toMatchObject({ code: "BAD_REQUEST", status: 400, message: "ttl must be at least 10" });
    expect(seen).toEqual([
      { procedure: "leases.create", input: { targetId: "orders", ttlSeconds: 0 }, auth: "Bearer token-1" },
      { procedure: "leases.create", input: { targetId: "orders" }, auth: "Bearer token-2" },
    ]);
  });

  it("the keeper takes a new lease when renewal is refused, and revokes on stop", async () => {
    const calls: string[] = [];
    let leases = 0;
    const url = await serve((procedure, input) => {
      calls.push(procedure);
      if (procedure === "leases.create") {
        leases += 1;
        return {
          status: 200,
          body: {
            result: { data: { grant: lease(`lease-${leases}`, 1), credential: { username: `u${leases}` } } },
          },
        };
      }
      if (procedure === "leases.renew") {
        return { status: 400, body: { error: { message: "lives at most", data: { code: "BAD_REQUEST" } } } };
      }
      return {
        status: 200,
        body: { result: { data: { ...lease(String(input.grantId), 0), state: "revoking" } } },
      };
    });
    const users: string[] = [];
    const keeper = await keepLeaseRenewed(createLeaseholdClient({ url, token: () => "t" }), {
      targetId: "orders",
      ttlSeconds: 1,
      renewBeforeSeconds: 0.5,
      onCredential: (leased) => users.push(leased.credential.username ?? ""),
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await keeper.stop();
    expect(users.slice(0, 2)).toEqual(["u1", "u2"]);
    expect(calls.slice(0, 3)).toEqual(["leases.create", "leases.renew", "leases.create"]);
    expect(calls.at(-1)).toBe("grants.revoke");
  });
});
