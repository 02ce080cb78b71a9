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
import { z } from "zod";

const localEnv = {
  /** Any of these means "use real AWS", so local mode does not start the AWS stand-in. */
  AWS_ENDPOINT_URL: z.string().optional(),
  AWS_ENDPOINT_URL_STS: z.string().optional(),
  AWS_ACCESS_KEY_ID: z.string().optional(),
  AWS_PROFILE: z.string().optional(),
  LEASEHOLD_SWEEP_INTERVAL: z.coerce.number().int().min(1).max(3600).default(5),
};

/** Local mode's settings: the only place in the app that reads process.env. */
export const readLocalEnv = (env: NodeJS.ProcessEnv = process.env) => ({
  ...parseEnv(
    {
      ...coreEnv,
      ...databaseEnv,
      ...redisEnv,
      ...httpEnv,
      ...awsEnv,
      ...localEnv,
      ...vaultEnv,
      ...tracingEnv,
    },
    env,
  ),
  /** Variables named by targets themselves (`sql.adminUrlEnv`). */
  targetEnv: env,
});

export type LocalEnv = ReturnType<typeof readLocalEnv>;

/** Whether any standard AWS setting is present, so real AWS should be used. */
export const wantsRealAws = (env: LocalEnv): boolean =>
  [env.AWS_ENDPOINT_URL, env.AWS_ENDPOINT_URL_STS, env.AWS_ACCESS_KEY_ID, env.AWS_PROFILE].some(
    (v) => v !== undefined,
  );
