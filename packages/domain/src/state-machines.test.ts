import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nextRequestState, type RequestEvent, requestStates } from "./access-request.js";
import { ConflictError } from "./errors.js";
import {
  canApplyGrantEvent,
  type GrantEvent,
  grantEvents,
  grantStates,
  isGrantEnded,
  nextGrantState,
} from "./grant.js";

const requestEvents: RequestEvent[] = ["final-approval", "deny", "cancel", "timeout"];

/** Applies events in order, skipping the ones the machine refuses; returns the visited states. */
function walkGrant(events: GrantEvent[]) {
  const visited = ["issuing" as (typeof grantStates)[number]];
  let state = visited[0] ?? "issuing";
  for (const event of events) {
    if (!canApplyGrantEvent(state, event)) {
      expect(() => nextGrantState(state, event)).toThrow(ConflictError);
      continue;
    }
    state = nextGrantState(state, event);
    visited.push(state);
  }
  return visited;
}

describe("access request state machine", () => {
  it("a pending request moves to the state each event names", () => {
    expect(nextRequestState("pending", "final-approval")).toBe("approved");
    expect(nextRequestState("pending", "deny")).toBe("denied");
    expect(nextRequestState("pending", "cancel")).toBe("cancelled");
    expect(nextRequestState("pending", "timeout")).toBe("expired");
  });

  it("any decision on a request that is no longer pending is refused", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...requestStates.filter((s) => s !== "pending")),
        fc.constantFrom(...requestEvents),
        (state, event) => {
          expect(() => nextRequestState(state, event)).toThrow(ConflictError);
        },
      ),
    );
  });

  it("any sequence of events changes a request at most once", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...requestEvents), { maxLength: 20 }), (events) => {
        let state: (typeof requestStates)[number] = "pending";
        let changes = 0;
        for (const event of events) {
          try {
            state = nextRequestState(state, event);
            changes += 1;
          } catch (error) {
            expect(error).toBeInstanceOf(ConflictError);
          }
        }
        expect(changes).toBe(events.length === 0 ? 0 : 1);
      }),
    );
  });
});

describe("grant state machine", () => {
  it("follows the issue → active → expire path", () => {
    expect(walkGrant(["issued", "deadline-reached"])).toEqual(["issuing", "active", "expired"]);
  });

  it("early revocation goes through revoking, and debt can still be settled", () => {
    expect(walkGrant(["issued", "revoke-requested", "revocation-gave-up", "revoked"])).toEqual([
      "issuing",
      "active",
      "revoking",
      "revocation_failed",
      "revoked",
    ]);
  });

  it("an extension keeps an active grant active, and only an active grant can be extended", () => {
    expect(walkGrant(["issued", "extended", "extended", "deadline-reached"])).toEqual([
      "issuing",
      "active",
      "active",
      "active",
      "expired",
    ]);
    for (const state of grantStates.filter((s) => s !== "active")) {
      expect(() => nextGrantState(state, "extended")).toThrow(ConflictError);
    }
  });

  it("a grant becomes active at most once, whatever happens", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...grantEvents), { maxLength: 30 }), (events) => {
        const visited = walkGrant(events);
        // Extending keeps a grant active; what may happen once is becoming active.
        const activations = visited.filter((s, i) => s === "active" && visited[i - 1] !== "active");
        expect(activations.length).toBeLessThanOrEqual(1);
        expect(visited.slice(1)).not.toContain("issuing");
      }),
    );
  });

  it("nothing leaves an ended state", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...grantStates.filter(isGrantEnded)),
        fc.constantFrom(...grantEvents),
        (state, event) => {
          expect(canApplyGrantEvent(state, event)).toBe(false);
          expect(() => nextGrantState(state, event)).toThrow(ConflictError);
        },
      ),
    );
  });

  it("a grant that may still work can always be driven to an end", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...grantEvents), { maxLength: 30 }), (events) => {
        const visited = walkGrant(events);
        const last = visited[visited.length - 1] ?? "issuing";
        if (isGrantEnded(last)) return;
        // From every live state some sequence of at most three events reaches an ended state.
        const ends = grantEvents.some(
          (a) =>
            canApplyGrantEvent(last, a) &&
            (isGrantEnded(nextGrantState(last, a)) ||
              grantEvents.some((b) => {
                const mid = nextGrantState(last, a);
                return canApplyGrantEvent(mid, b) && isGrantEnded(nextGrantState(mid, b));
              })),
        );
        expect(ends).toBe(true);
      }),
    );
  });
});
