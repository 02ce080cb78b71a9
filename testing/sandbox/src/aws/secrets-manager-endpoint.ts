import { randomUUID } from "node:crypto";
import { AwsQueryError } from "./aws-query-error.js";
import type { Principal, SandboxState } from "./aws-sandbox-state.js";
import type { AwsCall, AwsFault } from "./aws-sandbox-types.js";
import { authorizeCall } from "./policy-evaluation.js";
import { SECRETS_MANAGER_HANDLERS } from "./secrets-manager-actions.js";
import type { SecretsCaller } from "./secrets-manager-store.js";
import {
  JSON_CONTENT_TYPE,
  type JsonObject,
  parseJsonBody,
  readString,
  renderJsonError,
  TARGET_PREFIX,
} from "./secrets-manager-wire.js";
import {
  headerValues,
  parseAuthorization,
  type ReceivedRequest,
  type SigV4Authorization,
} from "./sigv4-verify.js";

/**
 * Secrets Manager on the AWS stand-in's server: a request signed for the service `secretsmanager` (any
 * region), or carrying `X-Amz-Target: secretsmanager.*`, is answered here in the JSON 1.1 protocol. It
 * is authenticated by the same SigV4 verifier and keys as STS and IAM, but refusals use the JSON
 * services' error types, all HTTP 400 as AWS sends them.
 */

export const SECRETS_MANAGER_SERVICE = "secretsmanager";

/** What the JSON services call the query protocol's authentication errors. */
const JSON_AUTH_ERRORS: Readonly<Record<string, string>> = {
  MissingAuthenticationToken: "MissingAuthenticationTokenException",
  IncompleteSignature: "IncompleteSignatureException",
  InvalidClientTokenId: "UnrecognizedClientException",
  SignatureDoesNotMatch: "InvalidSignatureException",
  ExpiredToken: "ExpiredTokenException",
};

/** Runs an authentication step, answering its refusal as the JSON services do. */
function authStep<T>(step: () => T): T {
  try {
    return step();
  } catch (error) {
    const jsonType = error instanceof AwsQueryError ? JSON_AUTH_ERRORS[error.code] : undefined;
    if (error instanceof AwsQueryError && jsonType !== undefined) {
      throw new AwsQueryError(400, jsonType, error.message);
    }
    throw error;
  }
}

/** The parts of the AWS stand-in this endpoint shares: its key check and its fault queue. */
export type SecretsManagerHooks = {
  authenticate: (authorization: SigV4Authorization, now: Date) => Principal;
  takeFault: (action: string) => AwsFault | undefined;
};

export type SecretsManagerOutcome = { call: AwsCall; requestId: string; body: string; contentType: string };

/** True when the request is meant for Secrets Manager, by its credential scope or its target. */
export function isSecretsManagerRequest(request: ReceivedRequest): boolean {
  if (headerValues(request.rawHeaders, "x-amz-target")[0]?.startsWith(TARGET_PREFIX) === true) return true;
  try {
    const authorization = parseAuthorization(headerValues(request.rawHeaders, "authorization")[0]);
    return authorization.service === SECRETS_MANAGER_SERVICE;
  } catch {
    return false;
  }
}

/** The account and partition secrets belong to: the signing user's, or the assumed role's. */
function callerOf(principal: Principal, region: string): SecretsCaller {
  if (principal.kind === "user") {
    return { account: principal.account, partition: principal.arn.split(":")[1] ?? "aws", region };
  }
  const { role } = principal.session;
  return { account: role.account, partition: role.partition, region };
}

/**
 * The resource a call is authorized against: the SecretId when it is an ARN, else the secret's ARN
 * without its random suffix (a simplification: policies matching `…:secret:name-??????` miss it).
 */
function secretResource(caller: SecretsCaller, input: JsonObject): string {
  const id = readString(input, "SecretId") ?? readString(input, "Name") ?? "*";
  if (id.startsWith("arn:")) return id;
  return `arn:${caller.partition}:secretsmanager:${caller.region}:${caller.account}:secret:${id}`;
}

/** Everything between the received bytes and the JSON answer; never throws. */
export function answerSecretsManager(
  state: SandboxState,
  request: ReceivedRequest,
  hooks: SecretsManagerHooks,
): SecretsManagerOutcome {
  const requestId = randomUUID();
  const now = state.clock();
  const target = headerValues(request.rawHeaders, "x-amz-target")[0] ?? "";
  const action = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : "";
  let recordedService: AwsCall["service"] = "unknown";
  let accessKeyId: string | undefined;
  let region: string | undefined;
  const recorded = () => ({
    ...(accessKeyId === undefined ? {} : { accessKeyId }),
    ...(region === undefined ? {} : { region }),
  });
  try {
    const authorization = authStep(() =>
      parseAuthorization(headerValues(request.rawHeaders, "authorization")[0]),
    );
    accessKeyId = authorization.accessKeyId;
    if (authorization.service !== SECRETS_MANAGER_SERVICE) {
      throw new AwsQueryError(
        400,
        "InvalidSignatureException",
        `Credential should be scoped to correct service: '${SECRETS_MANAGER_SERVICE}'. `,
      );
    }
    recordedService = SECRETS_MANAGER_SERVICE;
    region = authorization.region;
    const contentType = headerValues(request.rawHeaders, "content-type")[0] ?? "";
    if (request.method !== "POST" || !contentType.toLowerCase().startsWith(JSON_CONTENT_TYPE)) {
      throw new AwsQueryError(
        400,
        "UnknownOperationException",
        `Secrets Manager accepts only POST requests with Content-Type ${JSON_CONTENT_TYPE}.`,
      );
    }
    const principal = authStep(() => hooks.authenticate(authorization, now));
    const caller = callerOf(principal, authorization.region);
    // Own properties only: an operation named "constructor" must not reach Object.prototype.
    const handler = Object.hasOwn(SECRETS_MANAGER_HANDLERS, action)
      ? SECRETS_MANAGER_HANDLERS[action as keyof typeof SECRETS_MANAGER_HANDLERS]
      : undefined;
    if (handler === undefined) {
      throw new AwsQueryError(400, "UnknownOperationException", `Unknown operation: '${target}'.`);
    }
    const input = parseJsonBody(request.body);
    authorizeCall(principal, `secretsmanager:${action}`, secretResource(caller, input), {
      code: "AccessDeniedException",
    });
    const fault = hooks.takeFault(action);
    if (fault !== undefined) {
      throw new AwsQueryError(fault.status, fault.code, fault.message ?? `Injected ${fault.code}`);
    }
    const output = handler({ store: state.secrets, caller, now }, input);
    return {
      call: { service: recordedService, action, status: 200, ...recorded() },
      requestId,
      body: JSON.stringify(output),
      contentType: JSON_CONTENT_TYPE,
    };
  } catch (error) {
    const refusal =
      error instanceof AwsQueryError
        ? error
        : new AwsQueryError(500, "InternalServiceError", "An error occurred on the server side.");
    if (!(error instanceof AwsQueryError))
      console.error("aws sandbox: unexpected Secrets Manager error", error);
    return {
      call: {
        service: recordedService,
        action,
        status: refusal.status,
        errorCode: refusal.code,
        ...recorded(),
      },
      requestId,
      body: renderJsonError(refusal.code, refusal.message),
      contentType: JSON_CONTENT_TYPE,
    };
  }
}
