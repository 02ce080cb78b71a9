import type { z } from "zod";
import type { OnCallProvider } from "./on-call-schemas.js";
import { OnCallUnavailableError } from "./on-call-source.js";

/**
 * One GET to an on-call provider with global fetch: a timeout on the whole exchange, a cap on the
 * response size, JSON validated with zod. Every failure becomes an OnCallUnavailableError whose message
 * names the path (never the query, which may carry an email, nor the headers, which carry the token).
 */

/** On-call answers are small (a page of at most 100 entries); more is not a documented answer. */
export const MAX_RESPONSE_BYTES = 2 * 1024 * 1024;

export type GetRequest = {
  provider: OnCallProvider;
  /** The API base without a trailing slash. */
  apiUrl: string;
  /** The path, already encoded, as shown in error messages. */
  path: string;
  query?: URLSearchParams;
  headers: Record<string, string>;
  timeoutMs: number;
};

/** The status and the body (parsed JSON, or undefined when empty or not JSON) of a non-2xx answer. */
export type HttpFailure = { status: number; body: unknown; headers: Headers };

/** Reads at most MAX_RESPONSE_BYTES of the body, stopping the transfer beyond that. */
async function readCapped(request: GetRequest, response: Response): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  const tooLarge = () =>
    new OnCallUnavailableError(request.provider, `GET ${request.path} answered more than 2 MiB`, {
      retryable: false,
      upstreamCode: "response-too-large",
    });
  if (declared > MAX_RESPONSE_BYTES) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (response.body === null) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > MAX_RESPONSE_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

const parseJson = (text: string): unknown => {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** The network-level failure of a fetch, said plainly. */
function unreachable(request: GetRequest, error: unknown): OnCallUnavailableError {
  const name = (error as Error)?.name;
  if (name === "TimeoutError" || name === "AbortError") {
    return new OnCallUnavailableError(
      request.provider,
      `GET ${request.path} did not answer within ${request.timeoutMs} ms`,
      { retryable: true, upstreamCode: "timeout", cause: error },
    );
  }
  const code = (error as { cause?: { code?: unknown } })?.cause?.code;
  const reason = typeof code === "string" ? code : "network error";
  return new OnCallUnavailableError(
    request.provider,
    `could not be reached (${reason}) for GET ${request.path}`,
    {
      retryable: true,
      upstreamCode: "network",
      cause: error,
    },
  );
}

/**
 * Sends the GET. A 2xx body must match `schema` (else unavailable: "bad response"); any other status is
 * handed to `onFailure`, which returns a value for statuses it understands (a 404 meaning "no such
 * thing") or throws.
 */
export async function getJson<T, F = never>(
  request: GetRequest,
  schema: z.ZodType<T>,
  onFailure: (failure: HttpFailure) => F,
): Promise<T | F> {
  const url = `${request.apiUrl}${request.path}${request.query === undefined ? "" : `?${request.query}`}`;
  const signal = AbortSignal.timeout(request.timeoutMs);
  let status: number;
  let headers: Headers;
  let text: string;
  try {
    const response = await fetch(url, { method: "GET", headers: request.headers, signal, redirect: "error" });
    status = response.status;
    headers = response.headers;
    text = await readCapped(request, response);
  } catch (error) {
    if (error instanceof OnCallUnavailableError) throw error;
    throw unreachable(request, error);
  }
  const body = parseJson(text);
  if (status < 200 || status > 299) return onFailure({ status, body, headers });
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join(".") || "the body";
    throw new OnCallUnavailableError(
      request.provider,
      `GET ${request.path} answered something unexpected (at ${where})`,
      { retryable: false, upstreamCode: "bad-response" },
    );
  }
  return parsed.data;
}

/** Seconds from a header holding a whole number of seconds, when present and sane (1 s – 1 h). */
export function secondsHeader(headers: Headers, name: string): number | undefined {
  const raw = headers.get(name);
  if (raw === null || !/^\d{1,5}$/.test(raw.trim())) return undefined;
  const seconds = Number(raw.trim());
  return seconds >= 1 && seconds <= 3600 ? seconds : undefined;
}

/** A provider's error message from its body, shortened; these describe the request, never a secret. */
export const shortMessage = (message: unknown): string =>
  typeof message === "string" ? `: ${message.replace(/\s+/g, " ").slice(0, 200)}` : "";

/**
 * Every result, once every lookup has finished: a failure is thrown only after the others settled too,
 * so no request of a call that has returned is still running against the provider.
 */
export async function allFinished<T extends readonly unknown[]>(
  promises: {
    readonly [K in keyof T]: Promise<T[K]>;
  },
): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((result) => result.status === "rejected");
  if (failed !== undefined) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
