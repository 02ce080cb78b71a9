import { type FastifyBaseLogger, type FastifyReply, type FastifyRequest, LogController } from "fastify";

/** A request that took this long is logged even when it succeeded: slow calls are what operators look for. */
export const SLOW_REQUEST_MS = 1000;

/** Whether every request is logged: at pino's levels debug and trace (LOG_LEVEL). */
const logsEveryRequest = (log: FastifyBaseLogger) => log.level === "debug" || log.level === "trace";

/**
 * Fastify's request logging, cut to what operators read: one `request completed` line (method, path
 * without its query, status, time, request id) for every request that failed (status 400 and above),
 * errored or took SLOW_REQUEST_MS or more; successful quick ones only at LOG_LEVEL debug, with the
 * `incoming request` line. Fastify's error, 404 and stream lines are unchanged. Writing two lines per
 * call cost an authenticated lookup about a fifth of its CPU (pino's serializing and the pipe's writes),
 * while the successful calls are counted by the metrics and the changes they make by the audit trail.
 */
export class SummaryRequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (logsEveryRequest(request.log)) request.log.debug({ req: request }, "incoming request");
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const responseTime = reply.elapsedTime;
    if (error) {
      reply.log.error({ req: request, res: reply, err: error, responseTime }, "request errored");
    } else if (reply.statusCode >= 400 || responseTime >= SLOW_REQUEST_MS) {
      reply.log.info({ req: request, res: reply, responseTime }, "request completed");
    } else if (logsEveryRequest(reply.log)) {
      reply.log.debug({ req: request, res: reply, responseTime }, "request completed");
    }
  }
}
