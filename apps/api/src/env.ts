import {
  awsEnv,
  coreEnv,
  databaseEnv,
  httpEnv,
  parseEnv,
  redisEnv,
  tracingEnv,
  vaultEnv,
} from "@leasehold/config";

/** The API's settings: the only place in the app that reads process.env. */
export const readApiEnv = (env: NodeJS.ProcessEnv = process.env) => ({
  ...parseEnv(
    { ...coreEnv, ...databaseEnv, ...redisEnv, ...httpEnv, ...awsEnv, ...vaultEnv, ...tracingEnv },
    env,
  ),
  /** Variables named by targets themselves (`sql.adminUrlEnv`). */
  targetEnv: env,
});

export type ApiEnv = ReturnType<typeof readApiEnv>;
