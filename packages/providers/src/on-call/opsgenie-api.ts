import type { z } from "zod";
import { getJson, type HttpFailure, secondsHeader, shortMessage } from "./on-call-http.js";
import { OnCallUnavailableError } from "./on-call-source.js";

/** Opsgenie transport: the GenieKey header, errors as OnCallUnavailableError, 404 as "missing". */

export type OpsgenieApiOptions = {
  /** `https://api.opsgenie.com` (EU: `https://api.eu.opsgenie.com`) or a stand-in's URL. */
  apiUrl: string;
  /** The key of an Opsgenie API integration. */
  apiKey: string;
  /** Per request; default 5000. */
  timeoutMs?: number;
  /** Incidents per page, 1–100; default 100. */
  pageSize?: number;
  /** Pages of open incidents read at most; default 20. A missed one can only withhold an auto-approval. */
  maxPages?: number;
};

export type OpsgenieApi = {
  pageSize: number;
  maxPages: number;
  get<T>(path: string, schema: z.ZodType<T>, query?: URLSearchParams): Promise<T>;
  /** Like get, but undefined when Opsgenie answers 404. */
  getOrMissing<T>(path: string, schema: z.ZodType<T>, query?: URLSearchParams): Promise<T | undefined>;
};

export function createOpsgenieApi(options: OpsgenieApiOptions): OpsgenieApi {
  const apiUrl = options.apiUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 5_000;
  const pageSize = Math.min(Math.max(options.pageSize ?? 100, 1), 100);
  const maxPages = Math.max(options.maxPages ?? 20, 1);
  const headers = { Authorization: `GenieKey ${options.apiKey}`, Accept: "application/json" };
  const request = (path: string, query?: URLSearchParams) => ({
    provider: "opsgenie" as const,
    apiUrl,
    path,
    headers,
    timeoutMs,
    ...(query === undefined ? {} : { query }),
  });

  const fail =
    (path: string) =>
    (failure: HttpFailure): never => {
      const { status, body } = failure;
      if (status === 429) {
        const retryAfterSeconds = secondsHeader(failure.headers, "x-ratelimit-period-in-sec");
        throw new OnCallUnavailableError("opsgenie", `rate limited (429) on GET ${path}`, {
          retryable: true,
          upstreamCode: "429",
          ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
        });
      }
      const what =
        status === 401 || status === 403
          ? `refused the configured API key (${status}) on GET ${path}`
          : `GET ${path} answered ${status}${shortMessage((body as { message?: unknown } | undefined)?.message)}`;
      throw new OnCallUnavailableError("opsgenie", what, {
        retryable: status >= 500,
        upstreamCode: String(status),
      });
    };

  return {
    pageSize,
    maxPages,
    get: (path, schema, query) => getJson(request(path, query), schema, fail(path)),
    getOrMissing: (path, schema, query) =>
      getJson(request(path, query), schema, (failure) =>
        failure.status === 404 ? undefined : fail(path)(failure),
      ),
  };
}
