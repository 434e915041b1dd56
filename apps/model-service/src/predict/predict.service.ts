import type { AnyPredictResponse } from '@mlbg/contract';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ModelService } from '../model/model.service';
import { PredictionLog, type PredictionMeta } from '../predictions/prediction-log';
import { readPlainPredictBody } from './predict-body';
import { createPredictValidator, type PredictBatch } from './predict-validation';

/** Validates a prediction request and runs it; shared by the HTTP route and tRPC. */
@Injectable()
export class PredictService {
  private readonly validate: ReturnType<typeof createPredictValidator>;
  private readonly maxBatchRows: number;
  /** The byte-level reader writes float32; bodies for other column types take the general path. */
  private readonly readsPlainBodies: boolean;

  constructor(
    private readonly model: ModelService,
    private readonly log: PredictionLog,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const columnTypes = model.loaded.columnTypes;
    this.validate = createPredictValidator({ featureCount: model.featureCount, maxBatchRows: config.maxBatchRows, columnTypes });
    this.maxBatchRows = config.maxBatchRows;
    this.readsPlainBodies = columnTypes.every((type) => type === 'FP32');
  }

  /** Throws an `ApiError` (413 or 422) for a body that must not reach the model. */
  async predict(body: unknown, meta?: PredictionMeta): Promise<AnyPredictResponse> {
    return this.predictBatch(this.validate(body), meta);
  }

  /**
   * The body's bytes read straight into the input tensor when it has the plain shape (see
   * `readPlainPredictBody`), else undefined: then parse it and call `predict`.
   */
  readPlainBody(bytes: Uint8Array): PredictBatch | undefined {
    return this.readsPlainBodies ? readPlainPredictBody(bytes, this.model.featureCount, this.maxBatchRows) : undefined;
  }

  /** Runs a batch that is already validated; with `meta` (an HTTP request) the answer is recorded for `deploy:diff`. */
  async predictBatch(batch: PredictBatch, meta?: PredictionMeta): Promise<AnyPredictResponse> {
    const response = await this.model.predict(batch);
    if (meta) this.log.record(meta, batch.input, batch.rows, response);
    return response;
  }
}
