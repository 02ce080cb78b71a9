import { AwsQueryError } from "./aws-query-error.js";
import { headerValues } from "./sigv4-verify.js";

/**
 * `aws-chunked` bodies with an unsigned trailer (`x-amz-content-sha256:
 * STREAMING-UNSIGNED-PAYLOAD-TRAILER`), which the SDK sends for a streamed PutObject: chunks of
 * `<hex size>\r\n<bytes>\r\n`, a `0\r\n` chunk, then trailer lines `name:value\r\n` and `\r\n`
 * (contracts wave2 §4, botocore httpchecksum.py). Decoded here into the plain body, with the trailer
 * added to the headers, so the checks after see what a one-piece upload would have sent.
 */

const malformed = () =>
  new AwsQueryError(400, "InvalidRequest", "The aws-chunked request body is malformed.");

function readLine(body: Buffer, from: number): { line: string; next: number } {
  const end = body.indexOf("\r\n", from);
  if (end === -1) throw malformed();
  return { line: body.subarray(from, end).toString("latin1"), next: end + 2 };
}

/** The decoded body and the headers plus the trailer's; refuses a body that does not add up. */
export function decodeAwsChunked(
  rawHeaders: readonly string[],
  body: Buffer,
): { rawHeaders: readonly string[]; body: Buffer } {
  const chunks: Buffer[] = [];
  let at = 0;
  for (;;) {
    const { line, next } = readLine(body, at);
    const sizeText = line.split(";")[0] ?? "";
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw malformed();
    const size = Number.parseInt(sizeText, 16);
    if (size === 0) {
      at = next;
      break;
    }
    if (next + size + 2 > body.length || body.subarray(next + size, next + size + 2).toString() !== "\r\n") {
      throw malformed();
    }
    chunks.push(body.subarray(next, next + size));
    at = next + size + 2;
  }
  const declared = (headerValues(rawHeaders, "x-amz-trailer")[0] ?? "").toLowerCase().trim();
  const trailer: string[] = [];
  for (;;) {
    const { line, next } = readLine(body, at);
    at = next;
    if (line === "") break;
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    if (colon < 1 || name !== declared) throw malformed();
    trailer.push(name, line.slice(colon + 1).trim());
  }
  const decoded = Buffer.concat(chunks);
  const length = headerValues(rawHeaders, "x-amz-decoded-content-length")[0];
  if (at !== body.length || length === undefined || Number(length) !== decoded.length) {
    throw new AwsQueryError(
      400,
      "IncompleteBody",
      "You did not provide the number of bytes specified by the Content-Length HTTP header",
    );
  }
  if (declared !== "" && trailer.length === 0) throw malformed();
  return { rawHeaders: [...rawHeaders, ...trailer], body: decoded };
}
