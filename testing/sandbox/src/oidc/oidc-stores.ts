import { createHash, randomBytes, randomInt, timingSafeEqual } from "node:crypto";

/** Entries kept per kind of pending state; the oldest is dropped when full, so memory stays bounded. */
export const MAX_ENTRIES = 1_000;

/** An insertion-ordered map that forgets its oldest entry past `limit`. */
export class BoundedMap<V> {
  readonly #entries = new Map<string, V>();
  constructor(private readonly limit: number = MAX_ENTRIES) {}
  get(key: string): V | undefined {
    return this.#entries.get(key);
  }
  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    while (this.#entries.size > this.limit) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }
  delete(key: string): void {
    this.#entries.delete(key);
  }
  entries(): IterableIterator<[string, V]> {
    return this.#entries.entries();
  }
}

/** 32 random bytes, base64url: codes, refresh tokens, device codes, pending ids. */
export const randomSecret = (): string => randomBytes(32).toString("base64url");

/** Stores key secrets by digest so a dump of the maps holds nothing a client could replay. */
export const secretKey = (secret: string): string => createHash("sha256").update(secret).digest("hex");

/** Constant-time equality on SHA-256 digests (equal length whatever the inputs). */
export function secretsEqual(a: string, b: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** RFC 8628 §6.1's base-20 alphabet: no vowels, so no words. */
export const USER_CODE_CHARSET = "BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LENGTH = 8;

/** A fresh normalized user code (8 charset letters, no separator). */
export function newUserCode(): string {
  let code = "";
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_CHARSET[randomInt(USER_CODE_CHARSET.length)];
  return code;
}

/** XXXX-XXXX, as people read it. */
export const displayUserCode = (code: string): string => `${code.slice(0, 4)}-${code.slice(4)}`;

/** Upper-cases and drops everything outside the charset (dashes, spaces), per RFC 8628 §6.1. */
export function normalizeUserCode(input: string): string {
  let code = "";
  for (const char of input.slice(0, 64).toUpperCase()) if (USER_CODE_CHARSET.includes(char)) code += char;
  return code;
}
