/*
 * RULE: every Fastify hook or behaviour on /predict must be mirrored on this fast path.
 *
 * Plain `POST /predict` requests never reach Fastify: its hooks (onRequest, onSend, onResponse, ...),
 * its error handler and its content-type parsers do not run for them. Whoever adds or changes one of
 * those for /predict (in create-app.ts, predict.route.ts or a plugin) must do the same here, and add
 * the case to the corpus of predict.fast-path.spec.ts, which sends every kind of request both ways
 * and compares status, headers, body, log line and metrics. A spec there also fails if the default
 * app stops serving /predict on this path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorCodes, type FastifyBodyParser } from 'fastify';
import { SHADOW_HEADER, type AnyPredictResponse } from '@mlbg/contract';
import type { Logger } from 'pino';
import { toApiError } from '../errors/api-exception.filter';
import type { ResponseObserver } from '../logging/response-observer';
import { PREDICT_PATH, serializePredictResponse } from './predict.route';
import type { PredictService } from './predict.service';

/** The JSON content types this path takes; any other goes to Fastify, which answers 415 or parses it. */
const FAST_CONTENT_TYPES: ReadonlySet<string> = new Set(['application/json', 'application/json; charset=utf-8']);
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const METHOD = 'POST';

/** Everything one answer needs, from the app that installs the path. */
export interface PredictFastPathDeps {
  readonly predictions: PredictService;
  readonly logger: Logger;
  readonly version: string;
  readonly color: string;
  readonly bodyLimit: number;
  /** Fastify's own JSON body parser, with the app's prototype-poisoning settings. */
  readonly parseJson: FastifyBodyParser<string>;
  /** The header a request id is taken from, else `genReqId()` makes one (as Fastify's `requestIdHeader`). */
  readonly requestIdHeader: string;
  readonly genReqId: () => string;
  /** False while draining or closing: Fastify then answers (503, `connection: close`) as it always did. */
  readonly accepting: () => boolean;
  /**
   * True when this answer must close its connection: draining has begun, or the request came
   * through a socket link that no longer points at this color (the app's onSend hook).
   */
  readonly closeAfter: (request: IncomingMessage) => boolean;
  /** What the app's onResponse hook does: metrics and the access log line. */
  readonly observe: ResponseObserver;
}

/** Serves the request and returns true, or returns false without touching it (the caller hands it to Fastify). */
export type PredictFastPath = (request: IncomingMessage, response: ServerResponse) => boolean;

/**
 * `POST /predict` straight on node:http, in front of Fastify. Profiling showed Fastify's per-request
 * machinery (routing, hook chains, request/reply objects, a child logger, an AsyncResource per parsed
 * body) cost about as much CPU as the prediction itself; this path keeps only what the route does.
 *
 * It takes only plain requests: exactly `POST /predict`, a JSON content type, a Content-Length
 * within BODY_LIMIT, no Transfer-Encoding, while the service is ready. Everything else (other types,
 * chunked or oversized bodies, draining, closing) goes to the Fastify route untouched. What it answers
 * is what the Fastify route answers, byte for byte: the same status, headers, body, metrics and log line,
 * including every error (a spec sends each kind of request both ways and compares).
 */
export function createPredictFastPath(deps: PredictFastPathDeps): PredictFastPath {
  const versionJson = JSON.stringify(deps.version);

  return (request, response) => {
    if (request.method !== METHOD || request.url !== PREDICT_PATH) return false;
    const headers = request.headers;
    const contentType = headers['content-type'];
    const contentLength = headers['content-length'];
    if (contentType === undefined || !FAST_CONTENT_TYPES.has(contentType)) return false;
    if (contentLength === undefined || headers['transfer-encoding'] !== undefined) return false;
    const length = Number(contentLength);
    if (!(length <= deps.bodyLimit) || !deps.accepting()) return false;

    const startedAt = performance.now();
    const requestId = (headers[deps.requestIdHeader] as string | undefined) || deps.genReqId();
    // The route pattern is the path itself (Fastify's `routeOptions.url`, the metrics label).
    const observed = { route: PREDICT_PATH, method: METHOD, url: PREDICT_PATH, requestId };
    const meta = { requestId, shadow: headers[SHADOW_HEADER] !== undefined, startedAt, route: 'predict' } as const;
    // Only an unexpected error needs a request logger (as Fastify's `request.log`).
    const log = () => deps.logger.child({ reqId: requestId });

    const send = (status: number, payload: string, closeConnection: boolean) => {
      if (response.headersSent) return; // answered already (a failure while answering)
      const retire = deps.closeAfter(request);
      // Header order as Fastify writes them: onRequest's, then the parser's, type, onSend's, length. A flat
      // list, which node:http writes without re-checking each name and value (see health.fast-path.ts).
      const head = ['x-model-version', deps.version, 'x-color', deps.color, 'x-request-id', requestId];
      if (closeConnection) head.push('connection', 'close');
      head.push('content-type', JSON_CONTENT_TYPE);
      if (retire && !closeConnection) head.push('connection', 'close');
      head.push('content-length', String(Buffer.byteLength(payload)));
      response.writeHead(status, head);
      response.end(payload);
      deps.observe(observed, status, performance.now() - startedAt);
    };
    const fail = (error: unknown, closeConnection: boolean) => {
      const apiError = toApiError(error, { log: log(), method: METHOD, url: PREDICT_PATH });
      send(apiError.status, JSON.stringify({ detail: apiError.detail, code: apiError.code }), closeConnection);
    };

    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
    });
    request.on('error', (error: Error & { statusCode?: number }) => {
      // As Fastify's body reader: a broken upload is a 400 (the client rarely sees it).
      if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
      fail(error, true);
    });
    request.on('end', () => {
      let answer: Promise<AnyPredictResponse> | undefined;
      try {
        answer = predictFromBody(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
      } catch (error) {
        // A bug, as a throw in the route's handler would be: a 500, logged.
        fail(error, false);
        return;
      }
      answer
        ?.then(
          (result) => send(200, serializePredictResponse(result, versionJson), false),
          (error: unknown) => fail(error, false),
        )
        .catch((error: unknown) => {
          // Only a failure while writing the answer gets here: the connection can not be trusted.
          log().error({ err: error }, `could not answer ${METHOD} ${PREDICT_PATH}`);
          response.destroy();
        });
    });

    /** The prediction, or undefined when the body was already answered with a 400 (as Fastify's parser does). */
    const predictFromBody = (bytes: Buffer): Promise<AnyPredictResponse> | undefined => {
      // The common body goes from its bytes straight into the tensor (it is ASCII, so its length is the
      // Content-Length); any other is decoded, checked, parsed and validated as Fastify's route does.
      const batch = deps.predictions.readPlainBody(bytes);
      if (batch) return deps.predictions.predictBatch(batch, meta);
      const body = bytes.toString('utf8');
      if (Buffer.byteLength(body) !== length) {
        fail(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH(), true);
        return undefined;
      }
      let parsed: unknown;
      let parseError: unknown;
      void deps.parseJson(request as never, body, (error, value) => {
        parseError = error;
        parsed = value;
      });
      if (parseError) {
        fail(parseError, true);
        return undefined;
      }
      return deps.predictions.predict(parsed, meta);
    };
    return true;
  };
}
