import { PREDICTIONS_ADMIN_PATH, type PredictionsResponse } from '@mlbg/contract';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ApiError } from '../errors/api-error';
import { sendApiError } from '../errors/api-exception.filter';
import { ModelService } from '../model/model.service';
import { PredictionLog } from './prediction-log';

interface PredictionsQuery {
  after?: string;
  limit?: string;
}

/** A whole number >= 0 from the query string, or a 422 that names the parameter. */
function wholeNumber(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) {
    throw new ApiError('VALIDATION_FAILED', [
      { loc: ['query', name], msg: `must be a whole number >= 0, not "${text}"`, type: 'int_parsing' },
    ]);
  }
  return Number(text);
}

/**
 * `GET /admin/predictions[?after=SEQ&limit=N]`: the color's last predictions (see prediction-log.ts),
 * for `deploy:diff`. Served on the color's own port and socket; nginx answers 404 for `/admin/` on
 * every route, so it never leaves the machine through the router.
 */
export async function registerPredictionsRoute(app: NestFastifyApplication): Promise<void> {
  const log = app.get(PredictionLog);
  const model = app.get(ModelService);
  const { color } = app.get<symbol, AppConfig>(APP_CONFIG);
  await app.register(async (scope: FastifyInstance) => {
    scope.setErrorHandler(sendApiError);
    scope.get<{ Querystring: PredictionsQuery }>(PREDICTIONS_ADMIN_PATH, (request): PredictionsResponse => {
      const after = wholeNumber('after', request.query.after);
      const limit = wholeNumber('limit', request.query.limit);
      return { color, version: model.version, capacity: log.capacity, recorded: log.recorded, records: log.since(after, limit) };
    });
  });
}
