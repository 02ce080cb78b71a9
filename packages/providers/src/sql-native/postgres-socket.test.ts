import { Socket } from "node:net";
import { createSqlScratch, type SqlScratch } from "@leasehold/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSqlProvider } from "./sql-provider.js";
import { sqlTargetSchema } from "./sql-schemas.js";
import { grantFor } from "./test-grant.js";

/** The runtime gives the PostgreSQL targets' pools the socket Leasehold's own database uses. */
describe("a PostgreSQL target's connections", () => {
  let scratch: SqlScratch;
  beforeAll(async () => {
    scratch = await createSqlScratch("postgres");
  });
  afterAll(() => scratch?.drop());

  it("go through the socket the provider is given, which carries a lease through", async () => {
    const sockets: Socket[] = [];
    const provider = createSqlProvider({
      adminUrlFor: () => scratch.adminUrl,
      postgresSocket: () => {
        const socket = new Socket();
        sockets.push(socket);
        return socket;
      },
    });
    try {
      const target = sqlTargetSchema.parse(scratch.targetConfig());
      const grant = grantFor(scratch.grantId());
      const { secret } = await provider.issue({
        grant,
        target,
        approval: null,
        checkpoint: async () => undefined,
      });
      const roles = await scratch.superuser("SELECT rolname FROM pg_roles WHERE rolname = $1", [
        secret.username,
      ]);
      expect(roles).toEqual([{ rolname: secret.username }]);
      expect(sockets.length).toBeGreaterThan(0);
      expect(sockets.every((socket) => socket.bytesWritten > 0)).toBe(true);
    } finally {
      await provider.close?.();
    }
  });
});
