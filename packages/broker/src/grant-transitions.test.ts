import { canApplyGrantEvent, type GrantEvent, grantStates, nextGrantState } from "@leasehold/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, createHarness, grantInState, type Harness, requester, willing } from "./test-harness.js";

/**
 * Every service operation that changes a grant, from every state: the state changes exactly when
 * the domain state machine allows the operation's event, to the state it names, and otherwise the
 * operation is refused or skipped and the grant stays as it was.
 */
describe("grant states change only through the domain state machine", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("pglite", willing);
  });
  afterAll(() => h.close());

  const notLast = { isLast: false };
  const stateOf = async (id: string) => (await h.deps.store.read((r) => r.grants.findById(id)))?.state;

  const operations: { event: GrantEvent; deadlineIn: number; run: (id: string) => Promise<unknown> }[] = [
    { event: "issued", deadlineIn: 3600, run: (id) => h.broker.grants.issue(id, notLast) },
    {
      event: "extended",
      deadlineIn: 3000,
      run: (id) => h.broker.grants.extend(requester, { grantId: id, extendBySeconds: 600 }),
    },
    {
      event: "revoke-requested",
      deadlineIn: 3600,
      run: (id) => h.broker.grants.revoke(admin, { grantId: id }),
    },
    { event: "revoked", deadlineIn: 3600, run: (id) => h.broker.grants.finishRevoke(id, notLast) },
    { event: "deadline-reached", deadlineIn: -1, run: (id) => h.broker.grants.expire(id, notLast) },
  ];

  for (const { event, deadlineIn, run } of operations) {
    for (const state of grantStates) {
      const allowed = canApplyGrantEvent(state, event);
      it(`${event} from ${state}: ${allowed ? `moves to ${nextGrantState(state, event)}` : "refused"}`, async () => {
        const id = await grantInState(h, state, deadlineIn);
        const outcome = await run(id).then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        );
        if (allowed) {
          expect(outcome).not.toHaveProperty("error");
          expect(await stateOf(id)).toBe(nextGrantState(state, event));
        } else {
          expect(await stateOf(id)).toBe(state);
          // Refused with an error, or a worker job that finds nothing to do.
          if (!("error" in outcome)) expect(outcome.value).toBe("skipped");
        }
      });
    }
  }
});
