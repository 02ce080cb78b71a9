import { S3Client } from "@aws-sdk/client-s3";

/** Where and how the S3 audit sink and reader reach S3; the SDK's standard settings fill the rest. */
export type S3AuditConnection = {
  readonly region: string;
  /** An S3-compatible endpoint or local mode's stand-in; buckets are then addressed path style. */
  readonly endpoint?: string | undefined;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  /** Tries per call, the SDK's retries included; default 3. */
  readonly maxAttempts?: number | undefined;
  /** A client made elsewhere (the other fields are then ignored). */
  readonly client?: S3Client | undefined;
};

/** The caller's client, or one from the connection settings and the default credential chain. */
export function s3ClientFor(connection: S3AuditConnection): S3Client {
  if (connection.client !== undefined) return connection.client;
  return new S3Client({
    region: connection.region,
    maxAttempts: connection.maxAttempts ?? 3,
    ...(connection.endpoint === undefined ? {} : { endpoint: connection.endpoint, forcePathStyle: true }),
    ...(connection.credentials === undefined ? {} : { credentials: connection.credentials }),
  });
}
