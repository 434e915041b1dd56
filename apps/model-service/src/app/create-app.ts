import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { LogController } from 'fastify';
import pino, { type DestinationStream } from 'pino';
import type { AppConfig } from '../config/app-config';
import { registerDocs } from '../docs/docs.plugin';
import { ReadinessTracker } from '../lifecycle/readiness';
import { createRouteRetirement } from '../lifecycle/route-retirement';
import { PinoNestLogger } from '../logging/pino-nest-logger';
import { createResponseObserver } from '../logging/response-observer';
import { MetricsService } from '../metrics/metrics.service';
import { ModelService } from '../model/model.service';
import { loadOnnxModel } from '../model/onnx-model';
import { createHealthFastPath } from '../health/health.fast-path';
import { HealthService } from '../health/health.service';
import { createPredictFastPath } from '../predict/predict.fast-path';
import { registerPredictRoute } from '../predict/predict.route';
import { PredictService } from '../predict/predict.service';
import { registerTrpc } from '../trpc/trpc.plugin';
import { registerV2Routes } from '../v2/v2.routes';
import { registerPredictionsRoute } from '../predictions/predictions.route';
import { AppModule } from './app.module';
import { spelledAsRouted } from './route-spelling';
import { ApiError } from '../errors/api-error';
import { sendApiError } from '../errors/api-exception.filter';

/** Metrics label for requests that matched no route, so unknown URLs can not grow the label set. */
const UNMATCHED_ROUTE = 'unmatched';

/** The header a request id is read from and echoed in; nginx sets it from its own `$request_id`. */
const REQUEST_ID_HEADER = 'x-request-id';

export interface CreateAppOptions {
  /** Where JSON log lines go (stdout by default); tests pass a stream to read or silence them. */
  logStream?: DestinationStream;
  /**
   * Serve plain `POST /predict` requests on node:http in front of Fastify (see predict.fast-path.ts).
   * On by default; tests turn it off to compare both paths. `inject` always takes the Fastify route.
   */
  predictFastPath?: boolean;
  /** The same for `GET /health` (health.fast-path.ts). */
  healthFastPath?: boolean;
}

/**
 * Builds the whole service without listening: loads and checks the model (throws `ModelLoadError`),
 * wires Nest on Fastify, tRPC and docs, and runs the warm-up inference. `main.ts` only listens;
 * tests build the very same app and call it through `inject` or a real port.
 */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const model = await loadOnnxModel(config.modelPath);
  const loggerOptions = { level: config.logLevel, base: { color: config.color, version: model.version } };
  // Asynchronous stdout: a synchronous write per request line costs throughput under load.
  const logger = pino(loggerOptions, options.logStream ?? pino.destination({ sync: false }));
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    // One line per request from the onResponse hook below instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: REQUEST_ID_HEADER,
    genReqId: () => randomUUID(),
    bodyLimit: config.bodyLimit,
    return503OnClosing: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, model), adapter, {
    bufferLogs: true,
    abortOnError: false,
    // No form or multipart parsers: anything but JSON is a 415.
    bodyParser: false,
  });
  app.useLogger(new PinoNestLogger(logger));

  const fastify = app.getHttpAdapter().getInstance();
  // The API takes JSON only: a text body is a 415, not a string handed to validation.
  fastify.removeContentTypeParser('text/plain');

  const modelService = app.get(ModelService);
  const metrics = app.get(MetricsService);
  const observe = createResponseObserver(metrics, logger, { logRequests: config.logRequests });
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-model-version', modelService.version);
    reply.header('x-color', config.color);
    reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  // A route reached through another spelling of its path (`/%6detrics`, `//metrics`) answers like an
  // unknown path, so an internal route can not be reached past a gateway that matches raw paths
  // (route-spelling.ts). Callback style, so the hot path makes no promise; sending without calling
  // done() ends the request here.
  fastify.addHook('onRequest', (request, reply, done) => {
    if (spelledAsRouted(request.raw.url ?? '', request.routeOptions.url)) return done();
    sendApiError(new ApiError('NOT_FOUND'), request, reply);
  });
  const readiness = app.get(ReadinessTracker);
  const retired = createRouteRetirement({ socketPath: config.socketPath });
  // While draining, close each connection after its answer so keep-alive clients move on and the
  // process can exit once in-flight requests are done; and retire nginx's kept connections that came
  // through a socket link that no longer points at this color.
  const closeAfter = (request: IncomingMessage) => {
    if (readiness.get().state === 'draining') return true;
    if (!retired(request.headers)) return false;
    metrics.countRetiredConnection();
    return true;
  };
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (closeAfter(request.raw)) reply.header('connection', 'close');
    done(null, payload);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    // A refused spelling (above) counts as the unknown path it is answered as.
    const routed = request.routeOptions.url;
    const route = routed !== undefined && spelledAsRouted(request.raw.url ?? '', routed) ? routed : UNMATCHED_ROUTE;
    observe(
      { route, method: request.method, url: request.url, requestId: request.id, log: request.log },
      reply.statusCode,
      reply.elapsedTime,
    );
    done();
  });
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });

  await registerPredictRoute(app);
  await registerV2Routes(app);
  await registerPredictionsRoute(app);
  await registerTrpc(app);
  await registerDocs(app, modelService);
  await app.init();
  const accepting = () => !closing && readiness.get().state === 'ready';
  const fastPaths: FastPath[] = [];
  if (options.healthFastPath !== false) {
    fastPaths.push(
      createHealthFastPath({
        health: app.get(HealthService),
        version: modelService.version,
        color: config.color,
        requestIdHeader: REQUEST_ID_HEADER,
        genReqId: randomUUID,
        // Every readiness state is answered here (503 while starting or draining), until Fastify closes.
        accepting: () => !closing,
        closeAfter,
        observe,
      }),
    );
  }
  if (options.predictFastPath !== false) {
    const { onProtoPoisoning = 'error', onConstructorPoisoning = 'error' } = fastify.initialConfig;
    fastPaths.push(
      createPredictFastPath({
        predictions: app.get(PredictService),
        logger,
        version: modelService.version,
        color: config.color,
        bodyLimit: config.bodyLimit,
        parseJson: fastify.getDefaultJsonParser(onProtoPoisoning, onConstructorPoisoning),
        requestIdHeader: REQUEST_ID_HEADER,
        genReqId: randomUUID,
        accepting,
        closeAfter,
        observe,
      }),
    );
  }
  if (fastPaths.length > 0) installFastPaths(app, fastPaths);
  await modelService.warmUp();
  logger.info({ model: config.modelPath, features: modelService.featureCount, sha256: modelService.sha256 }, 'model loaded and warmed up');
  return app;
}

/** Serves a request itself and returns true, or returns false without touching it. */
type FastPath = (request: IncomingMessage, response: ServerResponse) => boolean;

/**
 * Puts the fast paths in front of Fastify's request handler on the app's server (and so on the unix
 * socket too: main.ts serves that with the same listener). Requests they decline go to Fastify unchanged.
 */
function installFastPaths(app: NestFastifyApplication, fastPaths: readonly FastPath[]): void {
  const server = app.getHttpServer();
  const [fastifyHandler] = server.listeners('request') as RequestListener[];
  server.removeListener('request', fastifyHandler);
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    for (const fastPath of fastPaths) if (fastPath(request, response)) return;
    fastifyHandler(request, response);
  });
}
