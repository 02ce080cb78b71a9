import type { AwsQueryError } from "./aws-query-error.js";

/** XML namespaces of the two query-protocol services the stand-in serves. */
export const XML_NAMESPACE = {
  sts: "https://sts.amazonaws.com/doc/2011-06-15/",
  iam: "https://iam.amazonaws.com/doc/2010-05-08/",
} as const;

export type AwsService = keyof typeof XML_NAMESPACE;

/** Escapes text for an XML element body or attribute. Every interpolated value goes through here. */
export function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

/** `<name>escaped text</name>`; nothing when the value is undefined (an absent optional member). */
export function element(name: string, value: string | number | undefined): string {
  if (value === undefined) return "";
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/**
 * A successful query-protocol response: `<{Action}Response><{Action}Result>…</…><ResponseMetadata>…`.
 * `resultXml` must already be escaped (built with `element`). Actions without output (PutRolePolicy)
 * pass `undefined` and get no Result element, as the real services do.
 */
export function renderResponse(
  service: AwsService,
  action: string,
  resultXml: string | undefined,
  requestId: string,
): string {
  const result = resultXml === undefined ? "" : `<${action}Result>${resultXml}</${action}Result>`;
  return (
    `<${action}Response xmlns="${XML_NAMESPACE[service]}">${result}` +
    `<ResponseMetadata>${element("RequestId", requestId)}</ResponseMetadata></${action}Response>`
  );
}

/** The query protocol's error document. `Type` is Sender for 4xx and Receiver for 5xx, as in AWS. */
export function renderError(service: AwsService, error: AwsQueryError, requestId: string): string {
  const type = error.status >= 500 ? "Receiver" : "Sender";
  return (
    `<ErrorResponse xmlns="${XML_NAMESPACE[service]}"><Error>${element("Type", type)}` +
    `${element("Code", error.code)}${element("Message", error.message)}</Error>` +
    `${element("RequestId", requestId)}</ErrorResponse>`
  );
}

/** ISO 8601 in UTC without milliseconds (`2026-11-23T12:15:00Z`), the form STS and IAM return. */
export function isoSeconds(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, "Z");
}
