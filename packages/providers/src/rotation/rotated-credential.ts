import type { SecretValue } from "./secret-store.js";

/** One finding of a dry run: what was checked, whether it holds, and what was seen (never a secret). */
export type RotationCheck = { readonly check: string; readonly ok: boolean; readonly detail: string };

/**
 * What a rotation changes besides the secret: one database role's password, a pair of roles used in
 * turn, an IAM user's access keys. The rotation service drives it through Secrets Manager's four steps
 * (create, set, test, finish) and never builds a password, a statement or an API call itself.
 *
 * Every method may be called again after a crash with the same arguments and must then change nothing
 * twice. Errors never carry a secret; a refusal no retry can fix is a non-retryable UpstreamError.
 */
export type RotatedCredential = {
  /**
   * Step "create": the value the run will make current, from the value current now (kept as it is
   * but for the fields this credential owns). Refuses a current value it cannot rotate (a missing
   * field, a username that is not the configured one). `token` is the run's id: work done upstream
   * for it (an IAM key created) is found again, not done twice, when a crash made the run lose it.
   */
  next(current: SecretValue, token: string): Promise<SecretValue>;
  /** Step "set": gives the upstream the new value (a password set; nothing where "create" did it). */
  set(next: SecretValue): Promise<void>;
  /** Step "test": proves the new value works by using it (a login, a signed call). */
  test(next: SecretValue): Promise<void>;
  /** After the new value became current: retires the previous one (an old IAM key deactivated). */
  retire(previous: SecretValue, next: SecretValue): Promise<void>;
  /**
   * The run failed after "set": puts the upstream back so `previous`, still current in the secret,
   * keeps working and nothing the run made is left behind.
   */
  undo(previous: SecretValue, next: SecretValue): Promise<void>;
  /** A dry run's checks of the current value, changing nothing. */
  check(current: SecretValue): Promise<RotationCheck[]>;
};
