import { IAMClient } from "@aws-sdk/client-iam";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { STSClient } from "@aws-sdk/client-sts";

/**
 * SDK clients from the standard AWS settings: AWS_REGION, AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_STS /
 * AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL_SECRETS_MANAGER, and the default credential chain. IAM is a global service signed for
 * us-east-1. Nothing here hard-codes an endpoint.
 */
export function createAwsClients(options: AwsClientOptions) {
  const common = {
    maxAttempts: options.maxAttempts ?? 3,
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
  };
  return {
    sts: new STSClient({ region: options.region, ...common }),
    iam: new IAMClient({ region: "us-east-1", ...common }),
    secretsManager: new SecretsManagerClient({ region: options.region, ...common }),
    /** An STS client signing with the given long-term key (a rotated IAM key tested before it is current). */
    stsWith: (credentials: { readonly accessKeyId: string; readonly secretAccessKey: string }) =>
      new STSClient({ region: options.region, ...common, credentials }),
  };
}

export type AwsClientOptions = {
  readonly region: string;
  readonly maxAttempts?: number;
  /** Only for local mode's stand-in; otherwise the SDK's standard settings decide. */
  readonly endpoint?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
};
