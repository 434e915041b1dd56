import type { Logger } from 'pino';
import type { MetricsService } from '../metrics/metrics.service';

/** The part of a request's logger that answers use. */
export interface RequestLog {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** What the access log line and the metrics need to know about an answered request. */
export interface ObservedRequest {
  /** The route pattern (the metrics label), or "unmatched". */
  readonly route: string;
  readonly method: string;
  readonly url: string;
  readonly requestId: string;
  /** The request's own logger when it has one (Fastify's); otherwise the line carries `reqId` itself, the same bytes. */
  readonly log?: RequestLog;
}

/** What happens once an answer is sent: the request metrics, and one access log line at `info`. */
export type ResponseObserver = (request: ObservedRequest, status: number, ms: number) => void;

const ACCESS_MESSAGE = 'request completed';
/** Answers at or above this status are logged even when LOG_REQUESTS is off. */
const ALWAYS_LOGGED_STATUS = 500;

/**
 * @param options.logRequests LOG_REQUESTS: one line per request (the default); when false only
 *   5xx answers get one (behind nginx, whose access log has every request, request id included).
 */
export function createResponseObserver(
  metrics: MetricsService,
  logger: Logger,
  options: { readonly logRequests: boolean },
): ResponseObserver {
  return (request, status, ms) => {
    metrics.observeRequest(request.route, request.method, status, ms / 1000);
    if ((!options.logRequests && status < ALWAYS_LOGGED_STATUS) || !logger.isLevelEnabled('info')) return;
    const fields = { method: request.method, url: request.url, status, ms: Number(ms.toFixed(3)) };
    if (request.log) request.log.info(fields, ACCESS_MESSAGE);
    else logger.info({ reqId: request.requestId, ...fields }, ACCESS_MESSAGE);
  };
}
