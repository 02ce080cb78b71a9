import { createSqlScratch, type SqlScratch } from "@leasehold/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApprovalContext } from "../credential-provider.js";
import { createSqlProvider, type SqlProvider } from "./sql-provider.js";
import { type SqlTarget, sqlTargetSchema } from "./sql-schemas.js";
import { grantFor } from "./test-grant.js";

/** A SQL target's scope runs its own creation statements: the read-write scope can write, the target's role cannot. */

/** A person's approved grant: the request the scopes were approved on. */
const scopedGrantFor = (id: string) =>
  grantFor(id, { requestId: "6f1c0000-0000-4000-8000-000000000002", principalId: "dev@example.com" });

const approval = (scopes: string[]): ApprovalContext => ({
  requestId: "6f1c0000-0000-4000-8000-000000000002",
  ticket: null,
  approvers: ["alice@example.com"],
  scopes,
});

describe("SQL scopes on PostgreSQL", () => {
  let scratch: SqlScratch;
  let target: SqlTarget;
  let provider: SqlProvider;

  beforeAll(async () => {
    scratch = await createSqlScratch("postgres");
    target = sqlTargetSchema.parse({
      ...scratch.targetConfig(),
      requesters: { groups: ["eng"] },
      approvers: { groups: ["sre"] },
      scopes: [
        {
          name: "read-write",
          description: "Change orders",
          sql: {
            creationStatements: [
              `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
              `GRANT SELECT, INSERT ON orders TO "{{name}}"`,
            ],
          },
        },
      ],
    });
    provider = createSqlProvider({ adminUrlFor: () => scratch.adminUrl });
  });
  afterAll(async () => {
    await provider?.close?.();
    await scratch?.drop();
  });

  /** Inserts a row with the issued credential: undefined when it could, the error code when refused. */
  const insertAs = async (url: string, id: number) => {
    const session = await scratch.login(url);
    try {
      await session.query(`INSERT INTO ${scratch.orders} VALUES (${id}, 'plums')`);
      return undefined;
    } catch (error) {
      return (error as { code?: string }).code;
    } finally {
      await session.close();
    }
  };

  it("creates the role with the scope's statements when asked, and the target's otherwise", async () => {
    const scoped = await provider.issue({
      grant: scopedGrantFor(scratch.grantId()),
      target,
      approval: approval(["read-write"]),
      checkpoint: async () => undefined,
    });
    expect(await insertAs(scoped.secret.url ?? "", 10)).toBeUndefined();

    const plain = await provider.issue({
      grant: scopedGrantFor(scratch.grantId()),
      target,
      approval: approval([]),
      checkpoint: async () => undefined,
    });
    expect(await insertAs(plain.secret.url ?? "", 11)).toBe("42501");
  });

  it("revokes a scoped role like any other", async () => {
    const grant = scopedGrantFor(scratch.grantId());
    const issued = await provider.issue({
      grant,
      target,
      approval: approval(["read-write"]),
      checkpoint: async () => undefined,
    });
    await provider.revoke({ grant: { ...grant, state: "revoking" }, target });
    expect(await scratch.roleExists(issued.secret.username ?? "")).toBe(false);
  });
});
