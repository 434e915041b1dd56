import { SHADOW_HEADER, type AnyPredictResponse } from '@mlbg/contract';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { sendApiError } from '../errors/api-exception.filter';
import { ClassificationAnswer } from '../model/classification-answer';
import { PredictService } from './predict.service';

export const PREDICT_PATH = '/predict';

/**
 * The `/predict` answer as JSON. A classifier's answer writes itself (classification-answer.ts); a
 * single-target regression answer, `{"predictions":[…],"model_version":"…"}`, is written without a
 * generic serializer (its numbers are already finite); the others are JSON.stringify'd.
 */
export function serializePredictResponse(response: AnyPredictResponse, versionJson = JSON.stringify(response.model_version)): string {
  if (response instanceof ClassificationAnswer) return response.json();
  if ('probabilities' in response || typeof response.predictions[0] === 'object') return JSON.stringify(response);
  return `{"predictions":[${response.predictions.join(',')}],"model_version":${versionJson}}`;
}

/**
 * `POST /predict` as a plain Fastify route rather than a Nest controller: it is the hot path, and
 * Nest's per-request pipeline (guards, interceptors, pipes, param factories) measurably cut its
 * throughput while this route needs none of it. Errors still go through the app's exception filter.
 */
export async function registerPredictRoute(app: NestFastifyApplication): Promise<void> {
  const predictions = app.get(PredictService);
  let versionJson: string | undefined;
  await app.register(async (scope: FastifyInstance) => {
    // Nest installs its error handler only for its own routes; answer errors here the same way.
    scope.setErrorHandler(sendApiError);
    scope.post(PREDICT_PATH, async (request, reply) => {
      const meta = {
        requestId: request.id,
        shadow: request.headers[SHADOW_HEADER] !== undefined,
        startedAt: performance.now() - reply.elapsedTime,
        route: 'predict',
      } as const;
      const response = await predictions.predict(request.body, meta);
      versionJson ??= JSON.stringify(response.model_version);
      return reply.type('application/json; charset=utf-8').send(serializePredictResponse(response, versionJson));
    });
  });
}
