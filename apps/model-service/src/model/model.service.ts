import { Inject, Injectable } from '@nestjs/common';
import { Tensor } from 'onnxruntime-node';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ReadinessTracker } from '../lifecycle/readiness';
import { MetricsService } from '../metrics/metrics.service';
import { shortestFloat32 } from './float32';
import { LOADED_MODEL } from './model.tokens';
import { ModelLoadError, type LoadedModel } from './onnx-model';
import type { PredictBatch } from '../predict/predict-validation';

/** Runs the loaded model: one batched inference per request. */
@Injectable()
export class ModelService {
  constructor(
    @Inject(LOADED_MODEL) private readonly model: LoadedModel,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly readiness: ReadinessTracker,
    private readonly metrics: MetricsService,
  ) {
    metrics.setModelInfo({ version: model.version, color: config.color, sha256: model.sha256 });
  }

  get version(): string {
    return this.model.version;
  }

  get featureCount(): number {
    return this.model.featureCount;
  }

  get sha256(): string {
    return this.model.sha256;
  }

  get color(): AppConfig['color'] {
    return this.config.color;
  }

  /** Predicts one value per row of a validated batch (row-major float32 data, `featureCount` per row). */
  async predict(batch: PredictBatch): Promise<number[]> {
    const stopTimer = this.metrics.startInferenceTimer();
    const outputs = await this.model.session.run({
      [this.model.inputName]: new Tensor('float32', batch.input, [batch.rows, this.model.featureCount]),
    });
    stopTimer();

    const values = outputs[this.model.outputName].data as Float32Array;
    if (values.length !== batch.rows) {
      throw new Error(`the model returned ${values.length} values for ${batch.rows} rows; it must return one value per row`);
    }
    const predictions = new Array<number>(values.length);
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) throw new Error(`the model returned ${values[i]} for row ${i}; JSON can not carry it`);
      predictions[i] = shortestFloat32(values[i]);
    }
    return predictions;
  }

  /** A real inference before the first request, so /health says "ok" only when predictions work. */
  async warmUp(): Promise<void> {
    try {
      await this.predict({ rows: 1, input: new Float32Array(this.model.featureCount) });
      this.readiness.markReady();
    } catch (error) {
      const reason = `warm-up inference failed for ${this.model.path}: ${(error as Error).message}`;
      this.readiness.markFailed(reason);
      throw new ModelLoadError(reason);
    }
  }
}
