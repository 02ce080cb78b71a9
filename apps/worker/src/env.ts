import {
  awsEnv,
  coreEnv,
  parseEnv,
  redisEnv,
  sharedDatabaseEnv,
  slackEnv,
  tracingEnv,
  vaultEnv,
  workerEnv,
} from "@leasehold/config";

/**
 * The worker's settings: the only place in the app that reads process.env. DATABASE_URL is required:
 * the worker is a separate process and must work on the API's database, never an embedded one.
 */
export const readWorkerEnv = (env: NodeJS.ProcessEnv = process.env) => ({
  ...parseEnv(
    {
      ...coreEnv,
      ...sharedDatabaseEnv,
      ...redisEnv,
      ...awsEnv,
      ...slackEnv,
      ...workerEnv,
      ...vaultEnv,
      ...tracingEnv,
    },
    env,
  ),
  /** Variables named by targets themselves (`sql.adminUrlEnv`). */
  targetEnv: env,
});

export type WorkerEnv = ReturnType<typeof readWorkerEnv>;
