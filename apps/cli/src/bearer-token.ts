import type { CliEnv } from "./env.js";
import { refreshLogin } from "./identity-provider.js";
import { idTokenOf, readTokenFile, refreshDecision, writeTokenFile } from "./token-file.js";

/**
 * The bearer token for the next API call: LEASEHOLD_TOKEN when set, else the stored ID token, refreshed
 * first (and the new tokens saved) when it expires within a minute and a refresh token is stored.
 */
export async function currentBearer(env: CliEnv, now: () => Date = () => new Date()): Promise<string> {
  if (env.token) return env.token;
  const stored = readTokenFile(env.tokenFile);
  if (stored.format === "bare" || refreshDecision(stored, now()) === "send") return idTokenOf(stored);
  try {
    const refreshed = await refreshLogin(stored.login);
    writeTokenFile(env.tokenFile, refreshed);
    return refreshed.idToken;
  } catch (error) {
    // Another CLI process may have refreshed at the same moment: refresh tokens rotate, so only one of the
    // two redemptions succeeds. Take what the winner saved when it is fresh.
    const latest = readTokenFile(env.tokenFile);
    if (
      latest.format === "login" &&
      latest.login.idToken !== stored.login.idToken &&
      refreshDecision(latest, now()) === "send"
    ) {
      return latest.login.idToken;
    }
    throw error;
  }
}
