import type { PredictResponse } from '@mlbg/contract';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ModelService } from '../model/model.service';
import { createPredictValidator } from './predict-validation';

/** Validates a prediction request and runs it; shared by the HTTP route and tRPC. */
@Injectable()
export class PredictService {
  private readonly validate: ReturnType<typeof createPredictValidator>;

  constructor(
    private readonly model: ModelService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.validate = createPredictValidator({ featureCount: model.featureCount, maxBatchRows: config.maxBatchRows });
  }

  /** Throws an `ApiError` (413 or 422) for a body that must not reach the model. */
  async predict(body: unknown): Promise<PredictResponse> {
    const predictions = await this.model.predict(this.validate(body));
    return { predictions, model_version: this.model.version };
  }
}
