import {
  API_ERRORS,
  SHADOW_HEADER,
  V2_PLATFORM,
  type V2ErrorBody,
  type V2InferResponse,
  type V2ModelMetadataResponse,
  type V2ModelReadyResponse,
  type V2ServerLiveResponse,
  type V2ServerMetadataResponse,
  type V2ServerReadyResponse,
} from '@mlbg/contract';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ApiError } from '../errors/api-error';
import { toApiError } from '../errors/api-exception.filter';
import { ReadinessTracker } from '../lifecycle/readiness';
import { ModelService } from '../model/model.service';
import { checkInferRequest, toResponseOutputs } from './v2-tensors';
import { PredictionLog, inputDigest, v2Rows } from '../predictions/prediction-log';

export const V2_PREFIX = '/v2';
const SERVER_NAME = 'mlbg-model-service';
const SERVER_VERSION = '0.1.0';
/** An example body for error messages: what a V2 inference request looks like. */
const REQUEST_SHAPE = '{"inputs": [{"name": ..., "shape": [...], "datatype": ..., "data": [...]}]}';

interface ModelParams {
  name: string;
  version?: string;
}

/** Every V2 error answer is `{"error": "..."}` (the protocol's shape) with the catalogue's status. */
function sendV2Error(exception: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const error = toApiError(exception, request);
  let message = typeof error.detail === 'string' ? error.detail : API_ERRORS[error.code].message;
  if (error.code === 'MALFORMED_JSON')
    message = `The body is not valid JSON (${(exception as Error).message}). Send an inference request such as ${REQUEST_SHAPE}.`;
  const body: V2ErrorBody = { error: message };
  reply.status(error.status).send(body);
}

/**
 * The Open Inference Protocol (V2) REST routes: health, server and model metadata, model readiness and
 * inference, for the one model this service serves, under its name and version (with or without
 * `/versions/{version}` in the path). Plain Fastify routes, as /predict; their errors are `{"error": ...}`.
 */
export async function registerV2Routes(app: NestFastifyApplication): Promise<void> {
  const model = app.get(ModelService);
  const readiness = app.get(ReadinessTracker);
  const { maxBatchRows } = app.get<symbol, AppConfig>(APP_CONFIG);
  const loaded = model.loaded;
  const ready = () => readiness.get().state === 'ready';
  const predictionLog = app.get(PredictionLog);

  /** Throws a 404 unless the path names this model (and, when given, its version). */
  const checkModel = ({ name, version }: ModelParams) => {
    if (name !== loaded.name)
      throw new ApiError(
        'MODEL_NOT_FOUND',
        `model '${name}' is not served here; this service serves '${loaded.name}' (version ${loaded.version}).`,
      );
    if (version !== undefined && version !== loaded.version) {
      throw new ApiError(
        'MODEL_NOT_FOUND',
        `model '${name}' has no version '${version}' here; this service serves version ${loaded.version}.`,
      );
    }
  };
  const metadata: V2ModelMetadataResponse = {
    name: loaded.name,
    versions: [loaded.version],
    platform: V2_PLATFORM,
    inputs: loaded.signature.inputs,
    outputs: loaded.signature.outputs,
  };

  await app.register(
    async (scope: FastifyInstance) => {
      scope.setErrorHandler(sendV2Error);
      scope.setNotFoundHandler((request, reply) =>
        sendV2Error(
          new ApiError(
            'NOT_FOUND',
            `no V2 route ${request.method} ${request.url}; this service serves /v2/health/live, /v2/health/ready and /v2/models/${loaded.name}[/versions/${loaded.version}][/ready|/infer].`,
          ),
          request,
          reply,
        ),
      );
      scope.get('', (): V2ServerMetadataResponse => ({ name: SERVER_NAME, version: SERVER_VERSION, extensions: [] }));
      scope.get('/health/live', (): V2ServerLiveResponse => ({ live: true }));
      scope.get('/health/ready', (_request, reply): V2ServerReadyResponse => {
        reply.status(ready() ? 200 : 503);
        return { ready: ready() };
      });
      for (const path of ['/models/:name', '/models/:name/versions/:version']) {
        scope.get<{ Params: ModelParams }>(path, (request): V2ModelMetadataResponse => {
          checkModel(request.params);
          return metadata;
        });
        scope.get<{ Params: ModelParams }>(`${path}/ready`, (request, reply): V2ModelReadyResponse => {
          checkModel(request.params);
          reply.status(ready() ? 200 : 503);
          return { name: loaded.name, ready: ready() };
        });
        scope.post<{ Params: ModelParams }>(`${path}/infer`, async (request, reply): Promise<V2InferResponse> => {
          checkModel(request.params);
          if (!ready()) throw new ApiError('NOT_READY');
          const checked = checkInferRequest(request.body, loaded, maxBatchRows);
          const outputs = await model.run(checked.feeds, checked.outputNames);
          const responseOutputs = toResponseOutputs(outputs, checked.outputNames);
          // Recorded for deploy:diff as /predict is (predictions/prediction-log.ts).
          const feeds = Object.keys(checked.feeds)
            .sort()
            .map((name) => checked.feeds[name]?.data as ArrayBufferView);
          const rows = Number(Object.values(checked.feeds)[0]?.dims[0] ?? 0);
          predictionLog.recordRows(
            {
              requestId: request.id,
              shadow: request.headers[SHADOW_HEADER] !== undefined,
              startedAt: performance.now() - reply.elapsedTime,
              route: 'v2-infer',
            },
            inputDigest(...feeds),
            rows,
            v2Rows(responseOutputs, rows),
          );
          return {
            model_name: loaded.name,
            model_version: loaded.version,
            ...(checked.id === undefined ? {} : { id: checked.id }),
            outputs: responseOutputs,
          };
        });
      }
    },
    { prefix: V2_PREFIX },
  );
}
