/*
 * RULE: as for predict.fast-path.ts, every Fastify hook or behaviour on GET /health must be
 * mirrored here; health.fast-path.spec.ts compares both paths answer for answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResponseObserver } from '../logging/response-observer';
import type { HealthService } from './health.service';

export const HEALTH_PATH = '/health';
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const METHOD = 'GET';
const READY = 200;
const NOT_READY = 503;

export interface HealthFastPathDeps {
  readonly health: HealthService;
  readonly version: string;
  readonly color: string;
  /** The header a request id is taken from, else `genReqId()` makes one (as Fastify's `requestIdHeader`). */
  readonly requestIdHeader: string;
  readonly genReqId: () => string;
  /** False while Fastify is closing: it then answers 503 itself, as it always did. */
  readonly accepting: () => boolean;
  /** True when this answer must close its connection (the app's onSend hook). */
  readonly closeAfter: (request: IncomingMessage) => boolean;
  readonly observe: ResponseObserver;
}

/** Serves the request and returns true, or returns false without touching it (the caller hands it to Fastify). */
export type HealthFastPath = (request: IncomingMessage, response: ServerResponse) => boolean;

/**
 * `GET /health` (readiness) straight on node:http: the same report, status and headers as the Nest
 * route, without Nest's and Fastify's per-request machinery, which cost about three quarters of
 * the answer's time. nginx, the deploy tool and orchestrators ask this one often.
 */
export function createHealthFastPath(deps: HealthFastPathDeps): HealthFastPath {
  return (request, response) => {
    if (request.method !== METHOD || request.url !== HEALTH_PATH || !deps.accepting()) return false;
    // A GET with a body is left to Fastify, which reads (or refuses) it.
    if (request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined) return false;
    const startedAt = performance.now();
    const requestId = (request.headers[deps.requestIdHeader] as string | undefined) || deps.genReqId();
    const { ok, json: payload, length } = deps.health.reportJson();
    const status = ok ? READY : NOT_READY;
    // Header order as Fastify writes them: onRequest's, type, onSend's, length. A flat list, which
    // node:http writes without re-checking each name and value (they are ours, and a request id
    // echoed from a request header already passed the HTTP parser); it cost about a fifth of the answer.
    const head = ['x-model-version', deps.version, 'x-color', deps.color, 'x-request-id', requestId, 'content-type', JSON_CONTENT_TYPE];
    if (deps.closeAfter(request)) head.push('connection', 'close');
    head.push('content-length', length);
    response.writeHead(status, head);
    response.end(payload);
    deps.observe({ route: HEALTH_PATH, method: METHOD, url: HEALTH_PATH, requestId }, status, performance.now() - startedAt);
    return true;
  };
}
