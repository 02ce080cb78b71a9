import type { Target } from "@leasehold/domain";
import type { DriftScanner } from "../drift.js";
import type { SqlAdmin } from "./sql-admin.js";
import { renderSqlStatements } from "./sql-credentials.js";
import { type SqlErrorContext, sqlUpstreamError } from "./sql-errors.js";
import type { SqlTarget } from "./sql-schemas.js";

const ROLE = /^lh_([0-9a-f]{16})_a[0-9]+$/;

/**
 * The SQL provider's drift scan: Leasehold-named roles tied to the target's database (see
 * SqlAdmin.listLeasedRoles), each pointing to a grant by the 16 hex digits its name carries. Removal
 * ends the role exactly as revocation does (no new logins, sessions ended, the target's revocation
 * statements).
 */
export function createSqlDrift(
  open: (target: Target) => { target: SqlTarget; admin: SqlAdmin; context: SqlErrorContext },
): DriftScanner {
  return {
    scope: (target) => `sql:${target.id}`,

    async list({ target: anyTarget, signal }) {
      const { admin, context } = open(anyTarget);
      let names: string[];
      try {
        names = await admin.listLeasedRoles(signal);
      } catch (error) {
        throw sqlUpstreamError(error, "listing leased roles", context);
      }
      return names.flatMap((name) => {
        const prefix = ROLE.exec(name)?.[1];
        return prefix === undefined
          ? []
          : [{ kind: "sql-role" as const, name, grant: { idPrefix: prefix }, handle: name }];
      });
    },

    async remove({ target: anyTarget, leftover, signal }) {
      const { target, admin, context } = open(anyTarget);
      const name = leftover.handle;
      if (!ROLE.test(name)) throw new Error(`${name} is not a Leasehold role name`);
      const revocation = renderSqlStatements(target, "revocationStatements", { name });
      try {
        await admin.endRoles([{ name, revocation }], signal);
      } catch (error) {
        throw sqlUpstreamError(error, "dropping a leftover role", context);
      }
    },
  };
}
