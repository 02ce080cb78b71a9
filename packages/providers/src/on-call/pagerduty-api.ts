import type { z } from "zod";
import { getJson, type HttpFailure, secondsHeader, shortMessage } from "./on-call-http.js";
import { OnCallUnavailableError } from "./on-call-source.js";

/** PagerDuty REST API v2 transport: headers, classic offset paging, errors as OnCallUnavailableError. */

export type PagerDutyApiOptions = {
  /** `https://api.pagerduty.com`, or a stand-in's URL; no trailing slash. */
  apiUrl: string;
  token: string;
  /** `token` (REST API key, the default) or `bearer` (OAuth). */
  tokenType?: "token" | "bearer";
  /** Per request; default 5000. */
  timeoutMs?: number;
  /** Entries per page, 1–100 (PagerDuty's maximum); default 100. */
  pageSize?: number;
  /**
   * Pages read per listing at most; default 20. Reading stops there: a missed entry can only withhold an
   * auto-approval, never grant one.
   */
  maxPages?: number;
};

export type PagerDutyApi = {
  /** Every entry of a paged listing under `key`, following `more` up to maxPages pages. */
  listAll<T, K extends string>(
    path: string,
    query: URLSearchParams,
    key: K,
    schema: z.ZodType<{ [P in K]: T[] } & { more?: boolean | undefined }>,
  ): Promise<T[]>;
  /** One object; undefined when PagerDuty answers 404. */
  getOne<T>(path: string, schema: z.ZodType<T>): Promise<T | undefined>;
};

export function createPagerDutyApi(options: PagerDutyApiOptions): PagerDutyApi {
  const apiUrl = options.apiUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 5_000;
  const pageSize = Math.min(Math.max(options.pageSize ?? 100, 1), 100);
  const maxPages = Math.max(options.maxPages ?? 20, 1);
  const headers = {
    Authorization:
      options.tokenType === "bearer" ? `Bearer ${options.token}` : `Token token=${options.token}`,
    Accept: "application/vnd.pagerduty+json;version=2",
  };

  const fail =
    (path: string) =>
    (failure: HttpFailure): never => {
      const { status, body } = failure;
      const message = shortMessage((body as { error?: { message?: unknown } } | undefined)?.error?.message);
      if (status === 429) {
        const retryAfterSeconds = secondsHeader(failure.headers, "ratelimit-reset");
        throw new OnCallUnavailableError("pagerduty", `rate limited (429) on GET ${path}`, {
          retryable: true,
          upstreamCode: "429",
          ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
        });
      }
      const what =
        status === 401 || status === 403
          ? `refused the configured token (${status}) on GET ${path}`
          : `GET ${path} answered ${status}${message}`;
      throw new OnCallUnavailableError("pagerduty", what, {
        retryable: status >= 500 || status === 408,
        upstreamCode: String(status),
      });
    };

  async function listAll<T, K extends string>(
    path: string,
    query: URLSearchParams,
    key: K,
    schema: z.ZodType<{ [P in K]: T[] } & { more?: boolean | undefined }>,
  ): Promise<T[]> {
    const items: T[] = [];
    for (let page = 0; page < maxPages; page++) {
      const pageQuery = new URLSearchParams(query);
      pageQuery.set("limit", String(pageSize));
      pageQuery.set("offset", String(page * pageSize));
      const body = await getJson(
        { provider: "pagerduty", apiUrl, path, query: pageQuery, headers, timeoutMs },
        schema,
        fail(path),
      );
      items.push(...body[key]);
      if (body.more !== true) break;
    }
    return items;
  }

  return {
    listAll,
    getOne: (path, schema) =>
      getJson({ provider: "pagerduty", apiUrl, path, headers, timeoutMs }, schema, (failure) =>
        failure.status === 404 ? undefined : fail(path)(failure),
      ),
  };
}
