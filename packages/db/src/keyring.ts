/**
 * Keys of one purpose (the audit chain's, the grant rows') with the id of the master key each was
 * derived from: values are written under `current` and read under whichever key their id names, so
 * that the master key can be rotated while values sealed under the previous one are moved over.
 */
export type KeyEntry = { readonly id: string; readonly key: Buffer };

export type Keyring = { readonly current: KeyEntry; readonly previous: readonly KeyEntry[] };

/** Every key of the ring, the current one first. */
export const ringKeys = (ring: Keyring): readonly KeyEntry[] => [ring.current, ...ring.previous];

/** The key of the ring with this id, if the ring holds it. */
export const keyById = (ring: Keyring, id: string): KeyEntry | undefined =>
  ringKeys(ring).find((entry) => entry.id === id);

/** How errors name a key the ring does not hold: by its id, nothing else. */
export const notInRing = (id: string): string =>
  `key ${id}, which is not in the keyring (LEASEHOLD_MASTER_KEYS_PREVIOUS)`;
