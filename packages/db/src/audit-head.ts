import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";

/**
 * The audit trail's head (newest seq and hash) carries a MAC, under a key derived from the audit
 * chain's, so a database writer without the master key cannot point it at another event: only at a
 * head that was once current, whose MAC they read at the time. Neither the MAC nor anything else in
 * the database stops that replay; a head recorded outside the database does (`verify(expected)`).
 */

export const GENESIS = "0".repeat(64);

export type HeadRow = { readonly seq: number; readonly hash: string; readonly mac: string | null };

/** Head keys by chain key: derived once per key, not on every append (each append MACs the head twice). */
const headKeys = new WeakMap<Buffer, Buffer>();

/** The head's own key: the chain key's, put through HKDF, so no MAC of one kind passes for the other. */
export function headKey(chainKey: Buffer): Buffer {
  let key = headKeys.get(chainKey);
  if (key === undefined) {
    key = Buffer.from(hkdfSync("sha256", chainKey, Buffer.alloc(0), "leasehold/audit-head/v1", 32));
    headKeys.set(chainKey, key);
  }
  return key;
}

export const headMac = (key: Buffer, seq: number, hash: string): string =>
  createHmac("sha256", key).update(`${seq}:${hash}`).digest("hex");

/**
 * What is wrong with a head, if anything. The empty trail's head (seq 0) needs no MAC: it names no
 * event. A head without one was written before heads had MACs (the next append adds it), or had it
 * cleared.
 */
export function headProblem(key: Buffer, head: HeadRow): "forged" | "unsealed" | undefined {
  if (head.seq === 0 && head.hash === GENESIS) return undefined;
  if (head.mac === null) return "unsealed";
  return sameHash(head.mac, headMac(key, head.seq, head.hash)) ? undefined : "forged";
}

/** Constant-time comparison of two hex digests. */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && timingSafeEqual(left, right);
}
