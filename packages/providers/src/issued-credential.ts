import { z } from "zod";

/*
 * The secret part of an issued credential, by what it is rather than by which provider made it (a
 * Vault AWS secrets engine would issue an `aws-session` too). It is sealed as JSON while the grant is
 * active and delivered with its `kind`, so clients switch on the kind instead of guessing from fields.
 */

const secretText = z.string().min(1).max(8192);

/** Temporary AWS credentials: the four values the AWS SDKs read. */
export const awsSessionCredentialSchema = z
  .object({
    kind: z.literal("aws-session"),
    accessKeyId: secretText,
    secretAccessKey: secretText,
    sessionToken: secretText,
    /** ISO-8601. */
    expiration: secretText,
  })
  .strict();
export type AwsSessionCredential = z.output<typeof awsSessionCredentialSchema>;

/** A database login; the connection fields are there when Leasehold knows them (native SQL roles). */
export const databaseCredentialSchema = z
  .object({
    kind: z.literal("database"),
    username: secretText,
    password: secretText,
    host: secretText.optional(),
    port: secretText.optional(),
    database: secretText.optional(),
    /** A connection URL with the username and password in it. */
    url: secretText.optional(),
  })
  .strict();
export type DatabaseCredential = z.output<typeof databaseCredentialSchema>;

export const credentialSchema = z.discriminatedUnion("kind", [
  awsSessionCredentialSchema,
  databaseCredentialSchema,
]);
/** An issued credential's secret fields, with their kind. */
export type Credential = z.output<typeof credentialSchema>;
export type CredentialKind = Credential["kind"];

/**
 * Reads a credential as it was sealed. Credentials sealed before they carried a `kind` (a flat
 * `{accessKeyId, …}` or `{username, password, …}`) are still read: their fields say which kind they
 * were, since those were the only two shapes providers returned. The message never repeats a value.
 */
export function parseStoredCredential(stored: unknown): Credential {
  const parsed = credentialSchema.safeParse(stored);
  if (parsed.success) return parsed.data;
  if (typeof stored === "object" && stored !== null && !("kind" in stored)) {
    const kind = "accessKeyId" in stored ? "aws-session" : "database";
    const legacy = credentialSchema.safeParse({ ...stored, kind });
    if (legacy.success) return legacy.data;
  }
  throw new Error("the stored credential is not a credential Leasehold issues");
}
