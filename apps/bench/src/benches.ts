import type { Bench } from "./bench-result.js";

/** Every benchmark, in the order `pnpm bench` runs them. */
export const BENCHES: readonly Bench[] = [];
