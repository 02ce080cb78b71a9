import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";

/** localhost, 127.0.0.0/8 or ::1: plain HTTP there never leaves the machine. */
const isLoopback = (hostname: string) =>
  hostname === "localhost" || hostname === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(hostname);

/** The CLI's settings: the only place that reads process.env. */
export function readCliEnv(env: NodeJS.ProcessEnv = process.env) {
  const parsed = z
    .object({
      /** Where Leasehold's API is: HTTPS, or plain HTTP to this machine only (local mode). */
      LEASEHOLD_URL: z
        .url({ protocol: /^https?$/ })
        .default("http://127.0.0.1:8080")
        .refine(
          (url) => url.startsWith("https:") || isLoopback(new URL(url).hostname),
          "must be https:// (plain http:// only to this machine): the CLI sends bearer tokens and receives credentials",
        ),
      /** A token to use instead of the one `leasehold login` stored (for CI jobs). */
      LEASEHOLD_TOKEN: z.string().min(1).max(8192).optional(),
      /** Local mode's state folder, where its seeded people's tokens are. */
      LEASEHOLD_DATA_DIR: z.string().min(1).default(".leasehold"),
      XDG_CONFIG_HOME: z.string().min(1).optional(),
      /** leasehold.yaml, for the policy commands (which read it, and never call the API). */
      LEASEHOLD_CONFIG: z.string().min(1).max(4096).default("leasehold.yaml"),
      /** For `--checkpoint s3://…`: the bucket's region; credentials come from the AWS SDK's own chain. */
      AWS_REGION: z
        .string()
        .regex(/^[a-z0-9-]{1,30}$/, "must be a region like eu-west-1")
        .default("us-east-1"),
      /** An S3-compatible endpoint (or a stand-in), addressed path style, as the S3 audit sink does. */
      AWS_ENDPOINT_URL_S3: z.url({ protocol: /^https?$/ }).optional(),
      AWS_ENDPOINT_URL: z.url({ protocol: /^https?$/ }).optional(),
    })
    .safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== "")));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`the environment is not valid: ${problems}`);
  }
  const configDir = join(parsed.data.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), ".config"), "leasehold");
  return {
    url: parsed.data.LEASEHOLD_URL,
    token: parsed.data.LEASEHOLD_TOKEN,
    dataDir: parsed.data.LEASEHOLD_DATA_DIR,
    tokenFile: join(configDir, "token"),
    configFile: parsed.data.LEASEHOLD_CONFIG,
    /** Where `--checkpoint s3://…` reads an S3 audit sink's objects. */
    s3: {
      region: parsed.data.AWS_REGION,
      endpoint: parsed.data.AWS_ENDPOINT_URL_S3 ?? parsed.data.AWS_ENDPOINT_URL,
    },
    /** The environment handed to `leasehold exec` children (they get credentials added). */
    childEnv: env,
  };
}

export type CliEnv = ReturnType<typeof readCliEnv>;
