import type { PredictResponse } from '@mlbg/contract';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ModelService } from '../model/model.service';
import { readPlainPredictBody } from './predict-body';
import { createPredictValidator, type PredictBatch } from './predict-validation';

/** Validates a prediction request and runs it; shared by the HTTP route and tRPC. */
@Injectable()
export class PredictService {
  private readonly validate: ReturnType<typeof createPredictValidator>;
  private readonly maxBatchRows: number;

  constructor(
    private readonly model: ModelService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.validate = createPredictValidator({ featureCount: model.featureCount, maxBatchRows: config.maxBatchRows });
    this.maxBatchRows = config.maxBatchRows;
  }

  /** Throws an `ApiError` (413 or 422) for a body that must not reach the model. */
  async predict(body: unknown): Promise<PredictResponse> {
    return this.predictBatch(this.validate(body));
  }

  /**
   * The body's bytes read straight into the input tensor when it has the plain shape (see
   * `readPlainPredictBody`), else undefined: then parse it and call `predict`.
   */
  readPlainBody(bytes: Uint8Array): PredictBatch | undefined {
    return readPlainPredictBody(bytes, this.model.featureCount, this.maxBatchRows);
  }

  /** Runs a batch that is already validated. */
  predictBatch(batch: PredictBatch): Promise<PredictResponse> {
    return this.model.predict(batch).then((predictions) => ({ predictions, model_version: this.model.version }));
  }
}
