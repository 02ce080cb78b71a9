/**
 * Test helpers: real SDK clients pointed at a sandbox, and an assertion for the errors they throw.
 * (Named test-*.ts so the build leaves it out.)
 */
import { IAMClient } from "@aws-sdk/client-iam";
import { S3Client } from "@aws-sdk/client-s3";
import { STSClient } from "@aws-sdk/client-sts";
import { expect } from "vitest";
import { SANDBOX_ACCESS_KEY } from "./aws-sandbox-state.js";
import type { AwsSandbox } from "./aws-sandbox-types.js";

export type TestCredentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

type ClientOptions = {
  credentials?: TestCredentials;
  maxAttempts?: number;
  region?: string;
  /** How far the sandbox clock is ahead of the wall clock, so the client signs in the sandbox's time. */
  clockOffsetSeconds?: number;
};

export const stsClient = (sandbox: AwsSandbox, options: ClientOptions = {}) =>
  new STSClient({
    region: options.region ?? "us-east-1",
    endpoint: sandbox.url,
    credentials: options.credentials ?? SANDBOX_ACCESS_KEY,
    maxAttempts: options.maxAttempts ?? 3,
    systemClockOffset: (options.clockOffsetSeconds ?? 0) * 1000,
  });

export const iamClient = (sandbox: AwsSandbox, options: ClientOptions = {}) =>
  new IAMClient({
    region: options.region ?? "us-east-1",
    endpoint: sandbox.url,
    credentials: options.credentials ?? SANDBOX_ACCESS_KEY,
    maxAttempts: options.maxAttempts ?? 3,
    systemClockOffset: (options.clockOffsetSeconds ?? 0) * 1000,
  });

/** An S3 client addressing buckets path style (`/<bucket>/<key>`), as the stand-in serves them. */
export const s3Client = (
  sandbox: AwsSandbox,
  options: ClientOptions & { checksums?: "WHEN_SUPPORTED" | "WHEN_REQUIRED" } = {},
) =>
  new S3Client({
    region: options.region ?? "us-east-1",
    endpoint: sandbox.url,
    forcePathStyle: true,
    credentials: options.credentials ?? SANDBOX_ACCESS_KEY,
    maxAttempts: options.maxAttempts ?? 1,
    requestChecksumCalculation: options.checksums ?? "WHEN_SUPPORTED",
    systemClockOffset: (options.clockOffsetSeconds ?? 0) * 1000,
  });

type SdkError = Error & { Code?: string; $metadata?: { httpStatusCode?: number } };

/** The SDK class names of modelled errors, keyed by the code on the wire (from the SDKs' models). */
const MODELLED_NAMES: Record<string, string> = {
  MalformedPolicyDocument: "MalformedPolicyDocumentException",
  PackedPolicyTooLarge: "PackedPolicyTooLargeException",
  NoSuchEntity: "NoSuchEntityException",
  LimitExceeded: "LimitExceededException",
  InvalidInput: "InvalidInputException",
};

/**
 * Awaits a call that must fail and checks what the SDK made of the error document: `Code` is the
 * wire code, `name` is that code (or, for errors the SDK models, its class name, e.g.
 * MalformedPolicyDocument → MalformedPolicyDocumentException), and the HTTP status is the real
 * service's. Returns the error for further checks.
 */
export async function expectAwsError(
  call: Promise<unknown>,
  expected: { code: string; status: number; message?: string | RegExp },
): Promise<SdkError> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(outcome, `expected ${expected.code}, but the call succeeded`).toBeInstanceOf(Error);
  const error = outcome as SdkError;
  expect({ code: error.Code, name: error.name, status: error.$metadata?.httpStatusCode }).toEqual({
    code: expected.code,
    name: MODELLED_NAMES[expected.code] ?? expected.code,
    status: expected.status,
  });
  if (typeof expected.message === "string") expect(error.message).toBe(expected.message);
  else if (expected.message !== undefined) expect(error.message).toMatch(expected.message);
  return error;
}

/** A clock tests move by hand; it starts at the wall clock so SDK signing times stay within skew. */
export function manualClock(start = new Date()) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advanceSeconds: (seconds: number) => {
      now += seconds * 1000;
    },
  };
}
