import type { AwsQueryError } from "./aws-query-error.js";
import { element } from "./aws-query-xml.js";

/** S3's REST-XML wire: its document namespace, error document and header spellings. */

export const S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";
export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** What an S3 handler answers: status, extra headers and a body (none for HEAD and 204). */
export type S3Reply = { status: number; headers: Record<string, string>; body: Buffer | string };

/** An S3 error document; `resource` is the request path, as S3 reports it. */
export function renderS3Error(error: AwsQueryError, resource: string, requestId: string, extra = ""): string {
  return (
    `${XML_DECLARATION}<Error>${element("Code", error.code)}${element("Message", error.message)}` +
    `${extra}${element("Resource", resource)}${element("RequestId", requestId)}</Error>`
  );
}

/** A date in the form S3's XML and lock headers use: ISO 8601 with milliseconds, UTC. */
export const s3Date = (at: Date): string => at.toISOString();

export const LOCK_MODE_HEADER = "x-amz-object-lock-mode";
export const RETAIN_UNTIL_HEADER = "x-amz-object-lock-retain-until-date";
export const LEGAL_HOLD_HEADER = "x-amz-object-lock-legal-hold";
export const BYPASS_GOVERNANCE_HEADER = "x-amz-bypass-governance-retention";
