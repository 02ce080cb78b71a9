import {
  awsEnv,
  coreEnv,
  databaseEnv,
  parseEnv,
  redisEnv,
  slackEnv,
  vaultEnv,
  workerEnv,
} from "@leasehold/config";

/** The worker's settings: the only place in the app that reads process.env. */
export const readWorkerEnv = (env: NodeJS.ProcessEnv = process.env) => ({
  ...parseEnv(
    { ...coreEnv, ...databaseEnv, ...redisEnv, ...awsEnv, ...slackEnv, ...workerEnv, ...vaultEnv },
    env,
  ),
  /** Variables named by targets themselves (`sql.adminUrlEnv`). */
  targetEnv: env,
});

export type WorkerEnv = ReturnType<typeof readWorkerEnv>;
