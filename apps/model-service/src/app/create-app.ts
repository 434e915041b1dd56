import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { LogController } from 'fastify';
import pino, { type DestinationStream } from 'pino';
import type { AppConfig } from '../config/app-config';
import { registerDocs } from '../docs/docs.plugin';
import { ReadinessTracker } from '../lifecycle/readiness';
import { PinoNestLogger } from '../logging/pino-nest-logger';
import { MetricsService } from '../metrics/metrics.service';
import { ModelService } from '../model/model.service';
import { loadOnnxModel } from '../model/onnx-model';
import { registerPredictRoute } from '../predict/predict.route';
import { registerTrpc } from '../trpc/trpc.plugin';
import { AppModule } from './app.module';

/** Metrics label for requests that matched no route, so unknown URLs can not grow the label set. */
const UNMATCHED_ROUTE = 'unmatched';

export interface CreateAppOptions {
  /** Where JSON log lines go (stdout by default); tests pass a stream to read or silence them. */
  logStream?: DestinationStream;
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
    requestIdHeader: 'x-request-id',
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
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-model-version', modelService.version);
    reply.header('x-color', config.color);
    reply.header('x-request-id', request.id);
    done();
  });
  const readiness = app.get(ReadinessTracker);
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    // While draining, close each connection after its answer so keep-alive clients move on and the
    // process can exit once in-flight requests are done.
    if (readiness.get().state === 'draining') reply.header('connection', 'close');
    done(null, payload);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    const seconds = reply.elapsedTime / 1000;
    metrics.observeRequest(route, request.method, reply.statusCode, seconds);
    request.log.info(
      { method: request.method, url: request.url, status: reply.statusCode, ms: Number(reply.elapsedTime.toFixed(3)) },
      'request completed',
    );
    done();
  });

  await registerPredictRoute(app);
  await registerTrpc(app);
  await registerDocs(app, modelService);
  await app.init();
  await modelService.warmUp();
  logger.info(
    { model: config.modelPath, features: modelService.featureCount, sha256: modelService.sha256 },
    'model loaded and warmed up',
  );
  return app;
}
