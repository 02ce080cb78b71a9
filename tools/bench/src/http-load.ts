import { Pool } from "undici";

/** One GET, sent again and again. The headers may carry a bearer token: they are never printed. */
export type HttpTarget = {
  /** `http://host:port` */
  readonly origin: string;
  /** Path and query, like `/trpc/grants.get?input=…`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
};

export type HttpLoadResult = {
  /** Answers with status 200. */
  readonly ok: number;
  /** Any other status, or a failed request. */
  readonly failed: number;
  /** The first failure, as `HTTP <status>` or the error's message. */
  readonly firstFailure: string | undefined;
  readonly wallMs: number;
  /** Latency of each 200 answer, in milliseconds, from sending to the last byte of the body. */
  readonly latenciesMs: readonly number[];
};

/**
 * A closed-loop load generator over keep-alive HTTP/1.1: `connections` lanes, each with its own
 * connection and one request in flight (no pipelining), sending the next request as soon as the last
 * answer's body has been read, until `durationMs` have passed. Every server is driven the same way.
 */
export async function httpLoad(
  target: HttpTarget,
  options: { connections: number; durationMs: number },
): Promise<HttpLoadResult> {
  const pool = new Pool(target.origin, { connections: options.connections, pipelining: 1 });
  const latenciesMs: number[] = [];
  let failed = 0;
  let firstFailure: string | undefined;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const request = { method: "GET" as const, path: target.path, headers: { ...target.headers } };
  const lane = async () => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      try {
        const response = await pool.request(request);
        // The whole body is read before the next request, as a real client would.
        await response.body.arrayBuffer();
        if (response.statusCode === 200) {
          latenciesMs.push(performance.now() - sent);
        } else {
          failed += 1;
          firstFailure ??= `HTTP ${response.statusCode}`;
        }
      } catch (error) {
        failed += 1;
        firstFailure ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.connections }, lane));
  } finally {
    await pool.close();
  }
  return { ok: latenciesMs.length, failed, firstFailure, wallMs: performance.now() - started, latenciesMs };
}
