import {
  ACCESS_REPORT_MAX_ROWS,
  type AccessReport,
  type AccessReportInput,
  type AccessReportRow,
  ConflictError,
  ForbiddenError,
  type Principal,
  readAuditEvent,
  STANDING_UNUSED_DAYS,
  type StandingReport,
  type UnusedEligibility,
} from "@leasehold/domain";
import { groupMemberId, namedPeopleAndGroups, personPrincipal } from "@leasehold/policy";
import { type AccessFilter, accessFold } from "./access-report-fold.js";
import type { BrokerDeps } from "./broker-deps.js";
import { mayReadAudit, mayRequest } from "./policy-checks.js";

type Deps = Pick<BrokerDeps, "store" | "policy" | "clock" | "log" | "targets">;

const PAGE = 1000;
const DAY_MS = 86_400_000;
const LIVE = new Set<AccessReportRow["ending"]>(["issuing", "active", "revoking"]);

/**
 * Access reports for access reviews, built only from an audit trail that verifies: who held what
 * when (`access`), and what is standing now (`standing`). Whom the ReadAudit policies allow: admins
 * and auditors.
 */
export function createReportService(deps: Deps) {
  const { store, log, clock, targets } = deps;
  const assertReader = (principal: Principal) => {
    if (!mayReadAudit(deps, principal)) {
      throw new ForbiddenError("only admins and auditors may read access reports");
    }
  };

  /**
   * Verifies the chain, then folds it up to the verified head. Each event read must link to the one
   * before it and the last must be the verified head, so the report is built from the chain verified.
   */
  async function fold(filter: AccessFilter, limit: number) {
    const verified = await store.read((repos) => repos.audit.verify());
    if (!verified.ok) {
      log.error({ problems: verified.problems.slice(0, 10) }, "AUDIT CHAIN BROKEN: access report refused");
      const first = verified.problems[0];
      throw new ConflictError(
        `the audit trail does not verify${first ? ` (event ${first.seq}: ${first.problem})` : ""}, so no report is built from it: run leasehold audit verify`,
      );
    }
    const report = accessFold(filter, limit);
    let afterSeq = 0;
    let prevHash: string | undefined;
    while (afterSeq < verified.head.seq) {
      const page = await store.read((repos) =>
        repos.audit.list({ afterSeq, limit: Math.min(PAGE, verified.head.seq - afterSeq) }),
      );
      if (page.length === 0) break;
      for (const event of page) {
        if (prevHash !== undefined && event.prevHash !== prevHash) {
          throw new ConflictError(
            `the audit trail changed while the report was read (event ${event.seq}): run leasehold audit verify`,
          );
        }
        prevHash = event.hash;
        afterSeq = event.seq;
        const typed = readAuditEvent(event);
        if (typed) report.add(typed);
      }
    }
    if (afterSeq !== verified.head.seq || (verified.head.seq > 0 && prevHash !== verified.head.hash)) {
      throw new ConflictError(
        "the audit trail changed while the report was read: run leasehold audit verify",
      );
    }
    return { head: verified.head, ...report.result() };
  }

  /** For each target, the named people eligible to request it with no grant of it in the window. */
  function unusedEligibility(used: ReadonlySet<string>): Pick<StandingReport, "unused" | "eligibleGroups"> {
    const named = namedPeopleAndGroups({
      engine: deps.policy,
      targets: targets.list(),
      admins: { users: [], groups: [] },
      rotations: [],
    });
    const unused: UnusedEligibility[] = [];
    const eligibleGroups: { targetId: string; groups: string[] }[] = [];
    for (const target of targets.list()) {
      for (const id of named.people) {
        if (used.has(`${id}\n${target.id}`)) continue;
        if (mayRequest(deps, personPrincipal(id), target))
          unused.push({ targetId: target.id, principalId: id });
      }
      // A group counts when its member may ask and a person in no group may not.
      const anyone = mayRequest(deps, personPrincipal(groupMemberId("")), target);
      const groups = anyone
        ? []
        : named.groups.filter((g) => mayRequest(deps, personPrincipal(groupMemberId(g), [g]), target));
      if (groups.length > 0) eligibleGroups.push({ targetId: target.id, groups });
    }
    return { unused, eligibleGroups };
  }

  return {
    /** One row per grant whose life overlaps [from, to], as of `to`, filtered and capped at `limit`. */
    async access(principal: Principal, input: AccessReportInput): Promise<AccessReport> {
      assertReader(principal);
      const { head, rows, truncated } = await fold(input, input.limit);
      return { from: input.from.toISOString(), to: input.to.toISOString(), head, rows, truncated };
    },

    /**
     * Grants live now, and named people eligible for a target who have held no grant of it in
     * STANDING_UNUSED_DAYS: candidates to remove from leasehold.yaml.
     */
    async standing(principal: Principal): Promise<StandingReport> {
      assertReader(principal);
      const now = clock();
      const from = new Date(now.getTime() - STANDING_UNUSED_DAYS * DAY_MS);
      const { rows, truncated } = await fold({ from, to: now }, ACCESS_REPORT_MAX_ROWS);
      const used = new Set(rows.map((r) => `${r.holder}\n${r.targetId}`));
      return {
        at: now.toISOString(),
        active: rows.filter((r) => LIVE.has(r.ending)),
        ...unusedEligibility(used),
        truncated,
      };
    },
  };
}

export type ReportService = ReturnType<typeof createReportService>;
