import { createHmac } from "node:crypto";
import { type AuditEvent, type JsonValue, readAuditEvent } from "@leasehold/domain";
import { GENESIS, type HeadRow, headKey, headProblem, sameHash } from "./audit-head.js";
import { type KeyEntry, type Keyring, keyById, notInRing, ringKeys } from "./keyring.js";

/**
 * The audit chain's hashes and keys (audit-log.ts appends and verifies with them): how an event is
 * hashed, which key of the ring links an event or the head, and how `verify` follows the trail's key
 * across `audit.key_changed` events.
 */

/** An event as stored, with the id of the key that links it (null: written before keys had ids). */
export type StoredEvent = AuditEvent & { readonly keyId: string | null };
/** JSON with object keys sorted at every depth, so that jsonb's own key order does not matter. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

// An event with a key id hashes the id too, so that the id cannot be changed on its own.
export function chainHash(key: Buffer, event: Omit<StoredEvent, "hash">): string {
  const content = canonicalJson([
    event.seq,
    event.at.toISOString(),
    event.actor,
    event.action,
    event.subjectType,
    event.subjectId,
    event.data as JsonValue,
    event.prevHash,
    ...(event.keyId === null ? [] : [event.keyId]),
  ]);
  return createHmac("sha256", key).update(content).digest("hex");
}

/** What the new key's holder agrees to in an `audit.key_changed` event: HMAC under the new chain key. */
export const keyChangeAgreement = (toKey: KeyEntry, fromKeyId: string, prevHash: string): string =>
  createHmac("sha256", toKey.key)
    .update(canonicalJson(["leasehold/audit-key-change/v1", fromKeyId, toKey.id, prevHash]))
    .digest("hex");

/** The ring key that links `event`: the one its id names, or for an event without one, any that fits. */
export function linkingKey(ring: Keyring, event: StoredEvent): KeyEntry | undefined {
  if (event.keyId !== null) {
    const entry = keyById(ring, event.keyId);
    return entry && sameHash(event.hash, chainHash(entry.key, event)) ? entry : undefined;
  }
  return ringKeys(ring).find((entry) => sameHash(event.hash, chainHash(entry.key, event)));
}

/**
 * Follows which key links the trail while `verify` walks it: events without a key id come first (from
 * before keys had ids), then events under one key until an `audit.key_changed` event names the next.
 * An event under any other key, or a key change whose agreement does not match, is reported.
 */
export function keyWalk(ring: Keyring, report: (seq: number, problem: string) => void) {
  let chainKeyId: string | undefined;
  return {
    check(event: StoredEvent): void {
      if (event.keyId !== null && chainKeyId !== undefined && event.keyId !== chainKeyId) {
        report(
          event.seq,
          `is under key ${event.keyId}, but the trail is under key ${chainKeyId} there (a key change was forged or removed)`,
        );
      } else if (event.keyId === null && chainKeyId !== undefined) {
        report(
          event.seq,
          `names no key, but the trail is under key ${chainKeyId} there (the event was edited)`,
        );
      }
      if (event.keyId !== null && !keyById(ring, event.keyId)) {
        // Unverifiable, but followed: the events after it are checked under the key they are under.
        report(event.seq, `is under ${notInRing(event.keyId)}`);
        const typed = readAuditEvent(event);
        chainKeyId = typed?.action === "audit.key_changed" ? typed.data.toKeyId : event.keyId;
        return;
      }
      const key = linkingKey(ring, event);
      if (!key) {
        report(event.seq, "its contents do not match its hash (the event was edited)");
        return;
      }
      chainKeyId = event.keyId ?? chainKeyId;
      if (event.action === "audit.key_changed") chainKeyId = keyChangeTarget(ring, event, key, report);
    },
  };
}

/** The key an `audit.key_changed` event hands the trail to, after checking its agreement. */
function keyChangeTarget(
  ring: Keyring,
  event: StoredEvent,
  linkedBy: KeyEntry,
  report: (seq: number, problem: string) => void,
): string | undefined {
  const typed = readAuditEvent(event);
  if (typed?.action !== "audit.key_changed" || typed.data.fromKeyId !== linkedBy.id) {
    report(event.seq, "is a key change that does not name the key it is linked under");
    return typed?.action === "audit.key_changed" ? typed.data.toKeyId : undefined;
  }
  const to = keyById(ring, typed.data.toKeyId);
  if (!to) {
    report(event.seq, `is a key change to ${notInRing(typed.data.toKeyId)}`);
  } else if (!sameHash(typed.data.agreement, keyChangeAgreement(to, linkedBy.id, event.prevHash))) {
    report(event.seq, `is a forged key change: its agreement does not match key ${to.id}`);
  }
  return typed.data.toKeyId;
}

/**
 * The key that links the head, checked against the head's MAC: the one its id names, or for a head
 * from before keys had ids, the ring key its MAC matches (the current one when it has no MAC yet).
 */
export function headLinkKey(ring: Keyring, head: HeadRow, keyId: string | null): KeyEntry {
  if (head.seq === 0 && head.hash === GENESIS) return ring.current;
  // Made only when thrown: capturing its stack was most of what this cost every audited transaction.
  const forged = () =>
    new Error(
      "the audit trail's head was changed outside Leasehold (its MAC does not match), so nothing more is recorded: run leasehold audit verify",
    );
  if (keyId !== null) {
    const entry = keyById(ring, keyId);
    if (!entry)
      throw new Error(`the audit trail's head is under ${notInRing(keyId)}: nothing more is recorded`);
    // Extending a forged head would give it a valid MAC. One without a MAC is from before heads had
    // them, and is sealed now (the upgrade path; `verify` reports it until then).
    if (headProblem(headKey(entry.key), head) === "forged") throw forged();
    return entry;
  }
  if (head.mac === null) return ring.current;
  const entry = ringKeys(ring).find((candidate) => headProblem(headKey(candidate.key), head) === undefined);
  if (!entry) throw forged();
  return entry;
}

/** What `verify` says of the head, if anything is wrong with it. */
export function headStateOf(ring: Keyring, head: HeadRow, keyId: string | null): string | undefined {
  if (keyId !== null && !keyById(ring, keyId)) return `the chain head is under ${notInRing(keyId)}`;
  const candidates = keyId === null ? ringKeys(ring) : [keyById(ring, keyId) as KeyEntry];
  const states = candidates.map((entry) => headProblem(headKey(entry.key), head));
  if (states.includes(undefined)) return undefined;
  return HEAD_PROBLEMS[states.includes("unsealed") ? "unsealed" : "forged"];
}

const HEAD_PROBLEMS = {
  forged: "the chain head's MAC does not match: the head was changed outside Leasehold",
  unsealed:
    "the chain head has no MAC: it was written before heads had one (the next audited action adds it), or its MAC was removed outside Leasehold",
} as const;
