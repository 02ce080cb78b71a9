import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { baseUrl, closeServer, listen, readBody } from "../http/http-server.js";
import { IAM_LIMITS } from "./aws-limits.js";
import { AwsQueryError } from "./aws-query-error.js";
import { type AwsService, renderError, renderResponse } from "./aws-query-xml.js";
import { authenticate } from "./aws-request-auth.js";
import { createRole, type Principal, SANDBOX_USER_ARN, type SandboxState } from "./aws-sandbox-state.js";
import type {
  AwsCall,
  AwsFault,
  AwsSandbox,
  AwsSandboxOptions,
  AwsSandboxService,
  AwsServiceName,
} from "./aws-sandbox-types.js";
import {
  accessKeyRecords,
  createAccessKey,
  createUsers,
  deleteAccessKey,
  IAM_ACCESS_KEY_ACTIONS,
  listAccessKeys,
  updateAccessKey,
  userResource,
} from "./iam-access-keys.js";
import {
  deleteRolePolicy,
  getRole,
  getRolePolicy,
  type IAM_ACTIONS,
  listRolePolicies,
  putRolePolicy,
} from "./iam-actions.js";
import { payloadTexts } from "./payload-texts.js";
import { authorizeCall } from "./policy-evaluation.js";
import { parseQueryParams, type QueryParams } from "./query-params.js";
import { answerS3, isS3Request } from "./s3-endpoint.js";
import { createBuckets, versionRecord } from "./s3-store.js";
import { answerSecretsManager, isSecretsManagerRequest } from "./secrets-manager-endpoint.js";
import { createConfiguredSecrets, secretRecord, uniqueSecretNamed } from "./secrets-manager-setup.js";
import { headerValues, parseAuthorization, type ReceivedRequest } from "./sigv4-verify.js";
import { assumeRole, getCallerIdentity, type STS_ACTIONS } from "./sts-actions.js";

/**
 * The AWS stand-in: one HTTP server answering STS and IAM in the query protocol, Secrets Manager in
 * JSON 1.1 (secrets-manager-endpoint.ts) and S3 in REST-XML (s3-endpoint.ts), told apart by the service
 * in the SigV4 credential scope, so the real SDK can be pointed at it with `endpoint` or AWS_ENDPOINT_URL_*.
 * What it enforces, and what it does not, is in README.md.
 */

/** Query bodies are small; an IAM policy (131,072 characters) URL-encoded stays well under this. */
const MAX_BODY_BYTES = 1024 * 1024;

const API_VERSION: Record<AwsServiceName, string> = { sts: "2011-06-15", iam: "2010-05-08" };

type Handler = (state: SandboxState, caller: Principal, params: QueryParams, now: Date) => string | undefined;

const HANDLERS: Record<AwsServiceName, Record<string, Handler>> = {
  sts: {
    AssumeRole: assumeRole,
    GetCallerIdentity: (_state, caller) => getCallerIdentity(caller),
  } satisfies Record<(typeof STS_ACTIONS)[number], Handler>,
  iam: {
    GetRole: (state, _caller, params) => getRole(state, params),
    PutRolePolicy: (state, _caller, params) => putRolePolicy(state, params),
    GetRolePolicy: (state, _caller, params) => getRolePolicy(state, params),
    DeleteRolePolicy: (state, _caller, params) => deleteRolePolicy(state, params),
    ListRolePolicies: (state, _caller, params) => listRolePolicies(state, params),
    ...({
      CreateAccessKey: createAccessKey,
      ListAccessKeys: listAccessKeys,
      UpdateAccessKey: updateAccessKey,
      DeleteAccessKey: deleteAccessKey,
    } satisfies Record<(typeof IAM_ACCESS_KEY_ACTIONS)[number], Handler>),
  } satisfies Record<(typeof IAM_ACTIONS)[number], Handler>,
};

const isAccessKeyAction = (action: string): boolean =>
  (IAM_ACCESS_KEY_ACTIONS as readonly string[]).includes(action);

/** The role (or, for access keys, the user) an IAM call names: the resource its authorization is evaluated against. */
function iamResource(state: SandboxState, caller: Principal, action: string, params: QueryParams) {
  const account = caller.kind === "user" ? caller.account : caller.session.role.account;
  if (isAccessKeyAction(action)) {
    return { arn: userResource(state, account, params), shown: `user ${params.get("UserName") ?? ""}` };
  }
  const name = params.get("RoleName") ?? "";
  return {
    arn: state.rolesByName.get(name)?.arn ?? `arn:aws:iam::${account}:role/${name}`,
    shown: `role ${name}`,
  };
}

/** Takes one use of the first pending fault matching this call, if any. */
function takeFault(state: SandboxState, service: AwsSandboxService, action: string): AwsFault | undefined {
  const fault = state.faults.find(
    (candidate) =>
      candidate.times > 0 &&
      candidate.action === action &&
      (candidate.service === undefined || candidate.service === service),
  );
  if (fault === undefined) return undefined;
  fault.times -= 1;
  state.faults = state.faults.filter((candidate) => candidate.times > 0);
  return fault;
}

const isServiceName = (service: string): service is AwsServiceName => service === "sts" || service === "iam";

/** `contentType` defaults to the query protocol's text/xml; `headers` replace the defaults (S3). */
type Outcome = {
  call: AwsCall;
  requestId: string;
  body: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
};

/** Everything between the received bytes and the response document; never throws. */
// One pass from request to response in AWS's order (fault, signature, service, action); splitting it would
// scatter that order across functions.
function answer(state: SandboxState, request: ReceivedRequest, contentType: string | undefined): Outcome {
  const requestId = randomUUID();
  const now = state.clock();
  // Errors found before the credential scope names a service are answered in STS's namespace.
  let service: AwsService = "sts";
  let recordedService: AwsCall["service"] = "unknown";
  let action = "";
  let accessKeyId: string | undefined;
  try {
    const authorization = parseAuthorization(headerValues(request.rawHeaders, "authorization")[0]);
    accessKeyId = authorization.accessKeyId;
    if (!isServiceName(authorization.service)) {
      throw new AwsQueryError(
        403,
        "SignatureDoesNotMatch",
        `Credential should be scoped to correct service: 'sts'. The stand-in serves only sts, iam, secretsmanager and s3, not '${authorization.service}'.`,
      );
    }
    service = authorization.service;
    recordedService = service;
    if (
      request.method !== "POST" ||
      !contentType?.toLowerCase().startsWith("application/x-www-form-urlencoded")
    ) {
      throw new AwsQueryError(
        400,
        "InvalidAction",
        "The stand-in accepts only query-protocol POST requests with Content-Type application/x-www-form-urlencoded.",
      );
    }
    const params = parseQueryParams(request.body.toString("utf8"));
    action = params.get("Action") ?? "";
    if (service === "iam" && authorization.region !== IAM_LIMITS.signingRegion) {
      throw new AwsQueryError(
        403,
        "SignatureDoesNotMatch",
        `Credential should be scoped to a valid region, not '${authorization.region}'. `,
      );
    }
    const caller = authenticate(state, request, authorization, now);
    if (action === "") throw new AwsQueryError(400, "MissingAction", "Missing Action");
    const version = params.get("Version") ?? "";
    // Own properties only: an Action of "constructor" or "toString" must not reach Object.prototype.
    const handlers = HANDLERS[service];
    const handler = Object.hasOwn(handlers, action) ? handlers[action] : undefined;
    if (handler === undefined || version !== API_VERSION[service]) {
      throw new AwsQueryError(
        400,
        "InvalidAction",
        `Could not find operation ${action} for version ${version}`,
      );
    }
    // IAM governs every call a session makes except GetCallerIdentity, which is never denied.
    if (service === "iam") {
      const resource = iamResource(state, caller, action, params);
      authorizeCall(caller, `iam:${action}`, resource.arn, { shownResource: resource.shown });
    }
    const fault = takeFault(state, service, action);
    if (fault !== undefined) {
      const message =
        fault.message ?? (fault.code === "Throttling" ? "Rate exceeded" : `Injected ${fault.code}`);
      throw new AwsQueryError(fault.status, fault.code, message);
    }
    const result = handler(state, caller, params, now);
    return {
      call: { service, action, status: 200, accessKeyId },
      requestId,
      body: renderResponse(service, action, result, requestId),
    };
  } catch (error) {
    const refusal =
      error instanceof AwsQueryError
        ? error
        : new AwsQueryError(
            500,
            "InternalFailure",
            "The request processing has failed because of an unknown error.",
          );
    if (!(error instanceof AwsQueryError)) console.error("aws sandbox: unexpected error", error);
    return {
      call: {
        service: recordedService,
        action,
        status: refusal.status,
        errorCode: refusal.code,
        ...(accessKeyId === undefined ? {} : { accessKeyId }),
      },
      requestId,
      body: renderError(service, refusal, requestId),
    };
  }
}

/** Starts the AWS stand-in. Close it when done (`await sandbox.close()`). */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: long because it wires the server and the test hooks over one state; each piece is small.
export async function startAwsSandbox(options: AwsSandboxOptions): Promise<AwsSandbox> {
  const clock = options.clock ?? (() => new Date());
  const startedAt = clock();
  const createRoles = () => {
    const roles = options.roles.map((config) => createRole(config, startedAt));
    const rolesByName = new Map(roles.map((role) => [role.name, role]));
    if (rolesByName.size !== roles.length) {
      // IAM calls name a role without its account, so names must identify roles on their own.
      throw new Error("Sandbox role names must be unique (IAM calls identify a role by name)");
    }
    return { roles: new Map(roles.map((role) => [role.arn, role])), rolesByName };
  };
  const createIamUsers = () => createUsers(options.users ?? [], startedAt);
  const createSecrets = () =>
    createConfiguredSecrets(options.secrets ?? [], SANDBOX_USER_ARN.split(":")[4] ?? "", startedAt);
  const state: SandboxState = {
    clock,
    sessionAgeOnIssueSeconds: options.sessionAgeOnIssueSeconds ?? 0,
    ...createRoles(),
    sessions: new Map(),
    issued: [],
    calls: [],
    faults: [],
    users: createIamUsers(),
    accessKeyActivationSeconds: options.accessKeyActivationSeconds ?? 0,
    secrets: createSecrets(),
    buckets: createBuckets(options.buckets ?? []),
    payloads: [],
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const declaredLength = Number(req.headers["content-length"] ?? 0);
    let body: Buffer;
    try {
      if (declaredLength > MAX_BODY_BYTES) throw new Error("body too large");
      body = await readBody(req, MAX_BODY_BYTES);
    } catch {
      res.writeHead(413, { "Content-Type": "text/plain", Connection: "close" }).end("Request body too large");
      state.calls.push({ service: "unknown", action: "", status: 413 });
      return;
    }
    const request: ReceivedRequest = {
      method: req.method ?? "",
      url: req.url ?? "/",
      rawHeaders: req.rawHeaders,
      body,
    };
    const outcome: Outcome = isSecretsManagerRequest(request)
      ? answerSecretsManager(state, request, {
          authenticate: (authorization, now) => authenticate(state, request, authorization, now),
          takeFault: (action) => takeFault(state, "secretsmanager", action),
        })
      : isS3Request(request)
        ? answerS3(state, request, {
            authenticate: (authorization, now) => authenticate(state, request, authorization, now, "s3"),
            takeFault: (action) => takeFault(state, "s3", action),
          })
        : answer(state, request, req.headers["content-type"]);
    const { call, requestId, body: document } = outcome;
    state.calls.push(call);
    state.payloads.push(...payloadTexts(body.toString("utf8")), ...payloadTexts(document.toString()));
    const issued = state.issued.at(-1);
    if (options.beforeAssumeRoleResponse && call.action === "AssumeRole" && call.status === 200 && issued) {
      await options.beforeAssumeRoleResponse(issued);
    }
    res.writeHead(call.status, {
      ...(outcome.headers ?? {
        "Content-Type": outcome.contentType ?? "text/xml",
        "x-amzn-RequestId": requestId,
      }),
      // The server's (possibly injected) clock, as AWS sends it: the SDK corrects its clock skew from this.
      Date: clock().toUTCString(),
    });
    res.end(document);
  }

  const host = options.host ?? "127.0.0.1";
  const port = await listen(server, options.port ?? 0, host);
  return {
    url: baseUrl(host, port),
    port,
    get issued() {
      return state.issued;
    },
    get calls() {
      return state.calls;
    },
    rolePolicies(roleName) {
      const role = state.rolesByName.get(roleName);
      if (role === undefined) throw new Error(`The sandbox has no role named "${roleName}"`);
      return Object.fromEntries(role.inlinePolicies);
    },
    accessKeys(userName) {
      const user = state.users.get(userName);
      if (user === undefined) throw new Error(`The sandbox has no user named "${userName}"`);
      return accessKeyRecords(user);
    },
    secret: (name, region) => secretRecord(uniqueSecretNamed(state.secrets, name, region)),
    allPayloadsText: () => state.payloads.join("\n"),
    s3Versions: (bucket, key) =>
      (state.buckets.get(bucket)?.keys.get(key) ?? []).map((version) => versionRecord(key, version)),
    injectFault(fault) {
      if (!Number.isInteger(fault.times) || fault.times < 1) throw new Error("A fault needs times ≥ 1");
      state.faults.push({ ...fault });
    },
    clearRecords() {
      state.issued = [];
      state.calls = [];
      state.payloads = [];
    },
    reset() {
      Object.assign(state, createRoles(), {
        sessions: new Map(),
        issued: [],
        calls: [],
        faults: [],
        users: createIamUsers(),
        secrets: createSecrets(),
        buckets: createBuckets(options.buckets ?? []),
        payloads: [],
      });
    },
    goDown: () => closeServer(server),
    comeBack: async () => {
      if (!server.listening) await listen(server, port, host);
    },
    close: () => closeServer(server),
  };
}
