import {
  awsEnv,
  ConfigError,
  coreEnv,
  metricsEnv,
  parseEnv,
  redisEnv,
  sharedDatabaseEnv,
  slackBotEnv,
  slackEnv,
  tracingEnv,
  vaultEnv,
} from "@leasehold/config";

export type SlackConnection =
  | {
      readonly mode: "http";
      readonly botToken: string;
      readonly signingSecret: string;
      /** Accepted too while Slack may still sign with it (SLACK_SIGNING_SECRET_PREVIOUS). */
      readonly previousSigningSecret?: string | undefined;
    }
  | { readonly mode: "socket"; readonly botToken: string; readonly appToken: string };

/**
 * The bot's settings: the only place in the app that reads process.env. DATABASE_URL is required: the
 * bot is a separate process and must record requests in the API's database, never an embedded one.
 */
export function readBotEnv(env: NodeJS.ProcessEnv = process.env) {
  const parsed = parseEnv(
    {
      ...coreEnv,
      ...sharedDatabaseEnv,
      ...redisEnv,
      ...awsEnv,
      ...slackEnv,
      ...vaultEnv,
      ...slackBotEnv,
      ...metricsEnv,
      ...tracingEnv,
    },
    env,
  );
  const {
    SLACK_BOT_TOKEN: botToken,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_SIGNING_SECRET_PREVIOUS: previousSigningSecret,
    SLACK_APP_TOKEN: appToken,
  } = parsed;
  const problems = [
    ...(botToken
      ? []
      : ["SLACK_BOT_TOKEN: set the bot token (xoxb- followed by letters, digits and dashes)"]),
    ...((signingSecret === undefined) === (appToken === undefined)
      ? [
          "Set exactly one of SLACK_SIGNING_SECRET (HTTP, production) or SLACK_APP_TOKEN (Socket Mode, development)",
        ]
      : []),
    ...(previousSigningSecret !== undefined && signingSecret === undefined
      ? ["SLACK_SIGNING_SECRET_PREVIOUS: set it only beside SLACK_SIGNING_SECRET (the bot over HTTP)"]
      : []),
    ...(previousSigningSecret !== undefined && previousSigningSecret === signingSecret
      ? ["SLACK_SIGNING_SECRET_PREVIOUS: must be the secret before SLACK_SIGNING_SECRET, not the same one"]
      : []),
  ];
  if (problems.length > 0 || !botToken) throw new ConfigError("the environment", problems);
  const slack: SlackConnection = appToken
    ? { mode: "socket", botToken, appToken }
    : { mode: "http", botToken, signingSecret: signingSecret ?? "", previousSigningSecret };
  return { ...parsed, slack, targetEnv: env };
}

export type BotEnv = ReturnType<typeof readBotEnv>;
