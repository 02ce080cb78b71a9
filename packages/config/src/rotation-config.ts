import { durationSchema, targetIdSchema } from "@leasehold/domain";
import { sqlEngines } from "@leasehold/providers/schemas";
import { CronExpressionParser } from "cron-parser";
import { z } from "zod";

const secretSchema = z.union([
  z
    .object({
      /** An AWS Secrets Manager secret (name or ARN) holding JSON with at least username and password. */
      awsSecretsManager: z
        .object({
          secretId: z
            .string()
            .min(1)
            .max(2048)
            .regex(/^[\w/+=.@:-]+$/, "secretId is a secret's name or ARN"),
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      /** A Vault KV v2 secret holding at least username and password. */
      vaultKv: z
        .object({
          mount: z
            .string()
            .regex(/^[a-z0-9][a-z0-9_-]*$/, "mount is a KV v2 mount name like secret")
            .default("secret"),
          // Segments start with a letter, digit, _ or -: no "." or ".." that could walk out of the mount.
          path: z
            .string()
            .max(512)
            .regex(/^[\w-][\w.-]*(?:\/[\w-][\w.-]*)*$/, "path is a KV path like orders/app"),
        })
        .strict(),
    })
    .strict(),
]);

const usernameSchema = (field: string) =>
  z
    .string()
    .regex(
      /^[a-z_][a-z0-9_]{0,31}$/,
      `${field} is a lower-case role name of letters, digits and _ (at most 32)`,
    );

/** A long-lived secret rotated on a schedule: the secret, the database role whose password it holds, when. */
export const rotationConfigSchema = z
  .object({
    id: targetIdSchema,
    description: z.string().max(500).default(""),
    secret: secretSchema,
    database: z
      .object({
        engine: z.enum(sqlEngines),
        /** Environment variable holding the admin connection URL (it must be able to change the password). */
        adminUrlEnv: z
          .string()
          .regex(/^[A-Z][A-Z0-9_]{1,100}$/, "adminUrlEnv is an environment variable name"),
        /** The role whose password rotates. */
        username: usernameSchema("username"),
        /** A second role used in turn with `username`: each run switches the secret to the other one. */
        alternateUsername: usernameSchema("alternateUsername").optional(),
        /** Create the alternate as a clone of `username` when it does not exist (default false). */
        cloneAlternate: z.boolean().default(false),
      })
      .strict()
      .refine((db) => db.alternateUsername !== db.username, {
        message: "alternateUsername must differ from username",
        path: ["alternateUsername"],
      })
      .refine((db) => !db.cloneAlternate || db.alternateUsername !== undefined, {
        message: "cloneAlternate needs an alternateUsername to create",
        path: ["cloneAlternate"],
      }),
    schedule: z
      .object({
        /** Cron, five fields (or six with seconds first), in UTC: `0 3 * * *` is every day at 03:00 UTC. */
        cron: z
          .string()
          .max(100)
          .refine((cron) => {
            try {
              CronExpressionParser.parse(cron, { tz: "UTC" });
              return true;
            } catch {
              return false;
            }
          }, "cron is not a valid cron expression; write it like 0 3 * * * (every day at 03:00 UTC)"),
        /** A random delay up to this, so many rotations do not start on the same second. */
        jitter: durationSchema.refine((s) => s <= 3600, "jitter must be at most 1h").optional(),
      })
      .strict(),
    password: z
      .object({ length: z.int().min(16).max(128).default(32) })
      .strict()
      .default({ length: 32 }),
  })
  .strict()
  .transform((rotation) => ({
    ...rotation,
    schedule: { cron: rotation.schedule.cron, jitterSeconds: rotation.schedule.jitter ?? 0 },
  }));

export type RotationConfig = z.output<typeof rotationConfigSchema>;
