import { Inject, Injectable } from '@nestjs/common';
import type { AnyPredictResponse, ModelSignature, NumericInputDatatype } from '@mlbg/contract';
import { Tensor } from 'onnxruntime-node';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ReadinessTracker } from '../lifecycle/readiness';
import { MetricsService } from '../metrics/metrics.service';
import { ClassificationAnswer, classifierFormat, type ClassifierFormat } from './classification-answer';
import { shortestFloat32 } from './float32';
import { LOADED_MODEL } from './model.tokens';
import { ModelLoadError, type LoadedModel, type ServedInput } from './onnx-model';
import type { PredictBatch } from '../predict/predict-validation';

type Feeds = Record<string, Tensor>;
type Outputs = Record<string, Tensor>;

/** A tensor of `datatype` holding `values` (JSON numbers already checked to fit it). */
export function numericTensor(datatype: NumericInputDatatype, values: Float32Array | Float64Array, dims: readonly number[]): Tensor {
  switch (datatype) {
    case 'FP32':
      return new Tensor('float32', values instanceof Float32Array ? values : Float32Array.from(values), dims);
    case 'FP64':
      return new Tensor('float64', values instanceof Float64Array ? values : Float64Array.from(values), dims);
    case 'INT32':
      return new Tensor('int32', Int32Array.from(values), dims);
    case 'INT64':
      return new Tensor(
        'int64',
        BigInt64Array.from(values, (value) => BigInt(value)),
        dims,
      );
  }
}

/** A float32 value as its shortest decimal; a float64 one as it is. */
function formatterOf(data: Tensor['data']): (value: number) => number {
  return data instanceof Float32Array ? shortestFloat32 : (value) => value;
}

/** Runs the loaded model: one batched inference per request. */
@Injectable()
export class ModelService {
  /** Only the tensor outputs: onnxruntime-node can not return the others. Undefined when all are tensors. */
  private readonly fetches: string[] | undefined;
  /** A classifier's classes and version as JSON, made with the first answer for all. */
  private classifierFormat?: ClassifierFormat;

  constructor(
    @Inject(LOADED_MODEL) private readonly model: LoadedModel,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly readiness: ReadinessTracker,
    private readonly metrics: MetricsService,
  ) {
    metrics.setModelInfo({ version: model.version, color: config.color, sha256: model.sha256 });
    const tensorOutputs = model.outputs.map((output) => output.name);
    this.fetches = tensorOutputs.length === model.session.outputNames.length ? undefined : tensorOutputs;
  }

  get version(): string {
    return this.model.version;
  }

  get name(): string {
    return this.model.name;
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

  get signature(): ModelSignature {
    return this.model.signature;
  }

  get loaded(): LoadedModel {
    return this.model;
  }

  /** Runs the model on tensors already checked against its inputs; returns the requested outputs (all served ones by default). */
  async run(feeds: Feeds, outputNames?: readonly string[]): Promise<Outputs> {
    const stopTimer = this.metrics.startInferenceTimer();
    const fetches = outputNames ?? this.fetches;
    const outputs = await (fetches ? this.model.session.run(feeds, [...fetches]) : this.model.session.run(feeds));
    stopTimer();
    return outputs;
  }

  /** The `/predict` answer for a validated batch (row-major, `featureCount` values per row). */
  async predict(batch: PredictBatch): Promise<AnyPredictResponse> {
    const outputs = await this.run(this.feedsOf(batch));
    const plan = this.model.answer;
    if (plan.task === 'regression') {
      const values = outputs[plan.output].data as Float32Array | Float64Array;
      if (values.length !== batch.rows * plan.targets) {
        throw new Error(`the model returned ${values.length} values for ${batch.rows} rows; it must return ${plan.targets} per row`);
      }
      const predictions = plan.targets === 1 ? this.finiteValues(values) : this.rowsOf(values, plan.targets, 'prediction');
      return { predictions, model_version: this.model.version } as AnyPredictResponse;
    }
    const probabilityData = outputs[plan.probabilities].data as Float32Array | Float64Array;
    const labelData = plan.labels ? (outputs[plan.labels].data as ArrayLike<string | number | bigint>) : undefined;
    this.classifierFormat ??= classifierFormat(plan.classes, this.model.version);
    return new ClassificationAnswer(probabilityData, labelData, batch.rows, this.classifierFormat);
  }

  /** A real inference before the first request, so /health says "ok" only when predictions work. */
  async warmUp(): Promise<void> {
    try {
      const allFloat32 = this.model.columnTypes.every((type) => type === 'FP32');
      const zeros = allFloat32 ? new Float32Array(this.model.featureCount) : new Float64Array(this.model.featureCount);
      await this.predict({ rows: 1, input: zeros });
      this.readiness.markReady();
    } catch (error) {
      const reason = `warm-up inference failed for ${this.model.path}: ${(error as Error).message}`;
      this.readiness.markFailed(reason);
      throw new ModelLoadError(reason);
    }
  }

  /** The batch as the model's input tensors: the whole row to a [N, F] input, or column i to the i-th of several inputs. */
  private feedsOf(batch: PredictBatch): Feeds {
    const inputs = this.model.inputs;
    if (inputs.length === 1) return { [inputs[0].name]: numericTensor(inputs[0].datatype, batch.input, dimsOf(inputs[0], batch.rows)) };
    const feeds: Feeds = {};
    const width = inputs.length;
    inputs.forEach((input, column) => {
      const values = batch.input instanceof Float32Array ? new Float32Array(batch.rows) : new Float64Array(batch.rows);
      for (let row = 0; row < batch.rows; row++) values[row] = batch.input[row * width + column];
      feeds[input.name] = numericTensor(input.datatype, values, dimsOf(input, batch.rows));
    });
    return feeds;
  }

  private finiteValues(values: Float32Array | Float64Array): number[] {
    const predictions = new Array<number>(values.length);
    const float32 = values instanceof Float32Array;
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) throw new Error(`the model returned ${values[i]} for row ${i}; JSON can not carry it`);
      // shortestFloat32 called directly: this loop is the hot path of a regression batch.
      predictions[i] = float32 ? shortestFloat32(values[i]) : values[i];
    }
    return predictions;
  }

  private rowsOf(values: Float32Array | Float64Array, width: number, what: string): number[][] {
    const format = formatterOf(values);
    const rows: number[][] = [];
    for (let start = 0; start < values.length; start += width) {
      const row = new Array<number>(width);
      for (let j = 0; j < width; j++) {
        const value = values[start + j];
        if (!Number.isFinite(value))
          throw new Error(`the model returned ${value} as a ${what} for row ${start / width}; JSON can not carry it`);
        row[j] = format(value);
      }
      rows.push(row);
    }
    return rows;
  }
}

function dimsOf(input: ServedInput, rows: number): number[] {
  return input.shape.length === 1 ? [rows] : [rows, input.columns];
}
