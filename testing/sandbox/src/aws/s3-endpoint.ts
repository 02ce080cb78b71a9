import { randomUUID } from "node:crypto";
import { AwsQueryError } from "./aws-query-error.js";
import { element } from "./aws-query-xml.js";
import type { Principal, SandboxState } from "./aws-sandbox-state.js";
import type { AwsCall, AwsFault } from "./aws-sandbox-types.js";
import { authorizeCall } from "./policy-evaluation.js";
import {
  deleteObject,
  getObject,
  getObjectLockConfiguration,
  listObjectsV2,
  putObject,
  type S3Request,
} from "./s3-actions.js";
import { decodeAwsChunked } from "./s3-aws-chunked.js";
import { renderS3Error, type S3Reply } from "./s3-wire.js";
import {
  headerValues,
  parseAuthorization,
  type ReceivedRequest,
  type SigV4Authorization,
  STREAMING_UNSIGNED_TRAILER,
  UNSIGNED_PAYLOAD,
} from "./sigv4-verify.js";

/**
 * S3 on the AWS stand-in's server: a request signed for the service `s3` is answered here in REST-XML,
 * path style (`/<bucket>/<key>`). Same keys as the other services, S3's signing rules (sigv4-verify.ts,
 * style "s3") and S3's names for authentication refusals.
 */

export const S3_SERVICE = "s3";

/** S3's names for the refusals the shared authentication raises. */
function s3AuthError(error: AwsQueryError): AwsQueryError {
  switch (error.code) {
    case "MissingAuthenticationToken":
      return new AwsQueryError(403, "AccessDenied", "Access Denied");
    case "IncompleteSignature":
      return new AwsQueryError(400, "AuthorizationHeaderMalformed", error.message);
    case "InvalidClientTokenId":
      return new AwsQueryError(
        403,
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
      );
    case "ExpiredToken":
      return new AwsQueryError(400, "ExpiredToken", "The provided token has expired.");
    case "SignatureDoesNotMatch":
      return /^Signature (expired|not yet current)/.test(error.message)
        ? new AwsQueryError(
            403,
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
          )
        : error;
    default:
      return error;
  }
}

function authStep<T>(step: () => T): T {
  try {
    return step();
  } catch (error) {
    throw error instanceof AwsQueryError ? s3AuthError(error) : error;
  }
}

export type S3Hooks = {
  /** Checks the key, session, time and signature with S3's signing rules. */
  authenticate: (authorization: SigV4Authorization, now: Date) => Principal;
  takeFault: (action: string) => AwsFault | undefined;
};

export type S3Outcome = {
  call: AwsCall;
  requestId: string;
  headers: Record<string, string>;
  body: Buffer | string;
};

/** True when the credential scope names S3. */
export function isS3Request(request: ReceivedRequest): boolean {
  try {
    return parseAuthorization(headerValues(request.rawHeaders, "authorization")[0]).service === S3_SERVICE;
  } catch {
    return false;
  }
}

type Route = { action: string; iamAction: string; run: (request: S3Request) => S3Reply };

/** Query parameters that select an operation or sub-resource the stand-in does not serve. */
const OBJECT_PARAMS = new Set(["versionId", "x-id"]);

function notImplemented(what: string): AwsQueryError {
  return new AwsQueryError(501, "NotImplemented", `The stand-in does not implement ${what}.`);
}

/** Which operation a method, path and query select (S3's REST mapping, for the operations served). */
function routeOf(method: string, key: string, query: URLSearchParams, rawHeaders: readonly string[]): Route {
  if (key === "") {
    if (method === "GET" && query.get("list-type") === "2") {
      return { action: "ListObjectsV2", iamAction: "s3:ListBucket", run: listObjectsV2 };
    }
    if (method === "GET" && query.has("object-lock")) {
      return {
        action: "GetObjectLockConfiguration",
        iamAction: "s3:GetBucketObjectLockConfiguration",
        run: getObjectLockConfiguration,
      };
    }
    throw notImplemented(`${method} on a bucket with ?${[...query.keys()].join("&")}`);
  }
  const extra = [...query.keys()].find((name) => !OBJECT_PARAMS.has(name));
  if (extra !== undefined) throw notImplemented(`the object sub-resource or parameter "${extra}"`);
  if (headerValues(rawHeaders, "x-amz-copy-source").length > 0) throw notImplemented("CopyObject");
  switch (method) {
    case "PUT":
      return { action: "PutObject", iamAction: "s3:PutObject", run: putObject };
    case "GET":
      return { action: "GetObject", iamAction: "s3:GetObject", run: (r) => getObject(r, true) };
    case "HEAD":
      return { action: "HeadObject", iamAction: "s3:GetObject", run: (r) => getObject(r, false) };
    case "DELETE":
      return {
        action: "DeleteObject",
        iamAction: query.has("versionId") ? "s3:DeleteObjectVersion" : "s3:DeleteObject",
        run: deleteObject,
      };
    default:
      throw notImplemented(`${method} on an object`);
  }
}

const safeDecode = (text: string): string | undefined => {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
};

/** `/<bucket>/<key>` → bucket and key (decoded; the key may contain `/`). */
function splitPath(url: string): { bucket: string; key: string; query: URLSearchParams } {
  const queryStart = url.indexOf("?");
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  const query = new URLSearchParams(queryStart === -1 ? "" : url.slice(queryStart + 1));
  const rest = path.replace(/^\//, "");
  const slash = rest.indexOf("/");
  const bucket = safeDecode(slash === -1 ? rest : rest.slice(0, slash));
  const key = safeDecode(slash === -1 ? "" : rest.slice(slash + 1));
  if (bucket === undefined || key === undefined) {
    throw new AwsQueryError(400, "InvalidURI", "Couldn't parse the specified URI.");
  }
  return { bucket, key, query };
}

/**
 * Everything between the received bytes and S3's answer, in S3's order (authentication, operation,
 * bucket, region, authorization, fault); never throws.
 */
export function answerS3(state: SandboxState, request: ReceivedRequest, hooks: S3Hooks): S3Outcome {
  const requestId = randomUUID();
  const now = state.clock();
  const resource = request.url.split("?")[0] ?? "/";
  let action = "";
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
    region = authorization.region;
    const contentHash = headerValues(request.rawHeaders, "x-amz-content-sha256")[0];
    if (contentHash === undefined) {
      throw new AwsQueryError(
        400,
        "InvalidRequest",
        "Missing required header for this request: x-amz-content-sha256",
      );
    }
    const streaming = contentHash === STREAMING_UNSIGNED_TRAILER;
    if (contentHash !== UNSIGNED_PAYLOAD && !streaming && !/^[0-9a-f]{64}$/.test(contentHash)) {
      // Signed aws-chunked bodies (STREAMING-AWS4-HMAC-SHA256-…) are not decoded here; see README.md.
      throw notImplemented(`x-amz-content-sha256: ${contentHash.slice(0, 64)}`);
    }
    const principal = authStep(() => hooks.authenticate(authorization, now));
    const received = streaming
      ? decodeAwsChunked(request.rawHeaders, request.body)
      : { rawHeaders: request.rawHeaders, body: request.body };
    const { bucket: bucketName, key, query } = splitPath(request.url);
    const route = routeOf(request.method, key, query, received.rawHeaders);
    action = route.action;
    const bucket = state.buckets.get(bucketName);
    if (bucket === undefined)
      throw new AwsQueryError(404, "NoSuchBucket", "The specified bucket does not exist");
    if (bucket.region !== authorization.region) {
      throw Object.assign(
        new AwsQueryError(
          400,
          "AuthorizationHeaderMalformed",
          `The authorization header is malformed; the region '${authorization.region}' is wrong; expecting '${bucket.region}'`,
        ),
        { region: bucket.region },
      );
    }
    const arn = `arn:aws:s3:::${bucket.name}${key === "" ? "" : `/${key}`}`;
    authorizeCall(principal, route.iamAction, arn);
    const fault = hooks.takeFault(action);
    if (fault !== undefined) {
      throw new AwsQueryError(fault.status, fault.code, fault.message ?? `Injected ${fault.code}`);
    }
    const reply = route.run({ bucket, key, query, ...received, now });
    return {
      call: { service: S3_SERVICE, action, status: reply.status, ...recorded() },
      requestId,
      headers: { ...reply.headers, "x-amz-request-id": requestId },
      body: reply.body,
    };
  } catch (error) {
    const refusal =
      error instanceof AwsQueryError
        ? error
        : new AwsQueryError(500, "InternalError", "We encountered an internal error. Please try again.");
    if (!(error instanceof AwsQueryError)) console.error("aws sandbox: unexpected S3 error", error);
    const expectedRegion = (error as { region?: unknown }).region;
    const extra = typeof expectedRegion === "string" ? element("Region", expectedRegion) : "";
    return {
      call: { service: S3_SERVICE, action, status: refusal.status, errorCode: refusal.code, ...recorded() },
      requestId,
      headers: { "Content-Type": "application/xml", "x-amz-request-id": requestId },
      // A HEAD response has no body; the SDK reads the code from the status alone (404 → NotFound).
      body: request.method === "HEAD" ? "" : renderS3Error(refusal, resource, requestId, extra),
    };
  }
}
