import type { ClassLabel, ClassificationPredictResponse } from '@mlbg/contract';
import { float32Json, shortestFloat32 } from './float32';

type Probabilities = Float32Array | Float64Array;
/** A label tensor's data: strings, or integers (int64 ones as bigint). */
type Labels = ArrayLike<string | number | bigint>;

/** What every answer of one model shares, made once. */
export interface ClassifierFormat {
  readonly classes: readonly ClassLabel[];
  readonly version: string;
  /** Each class label as JSON. */
  readonly labelJson: ReadonlyMap<ClassLabel, string>;
  /** The answer's tail: `,"classes":[...],"model_version":"..."}`. */
  readonly tail: string;
}

export function classifierFormat(classes: readonly ClassLabel[], version: string): ClassifierFormat {
  return {
    classes,
    version,
    labelJson: new Map(classes.map((label) => [label, JSON.stringify(label)])),
    tail: `,"classes":${JSON.stringify(classes)},"model_version":${JSON.stringify(version)}}`,
  };
}

/**
 * A classifier's `/predict` answer, kept as the model returned it (the probability tensor, the label
 * tensor or none) and written as JSON straight from it by `json()`: building a `number[][]` and
 * stringifying it cost more CPU than the inference (docs/performance.md). The response's fields are
 * made when read (the prediction log does, rarely), as arrays equal to what `json()` writes;
 * `JSON.stringify(answer)` writes the same text as `json()`.
 */
export class ClassificationAnswer implements ClassificationPredictResponse {
  /**
   * Throws, as the answer did before it was written this way, when the model returned a probability
   * JSON can not carry, probabilities for another number of rows, or another number of labels.
   */
  constructor(
    private readonly probabilityData: Probabilities,
    private readonly labelData: Labels | undefined,
    private readonly rows: number,
    private readonly format: ClassifierFormat,
  ) {
    const width = format.classes.length;
    const servedRows = Math.ceil(probabilityData.length / width);
    for (let index = 0; index < servedRows * width; index++) {
      const value = probabilityData[index];
      if (!Number.isFinite(value))
        throw new Error(`the model returned ${value} as a probability for row ${Math.floor(index / width)}; JSON can not carry it`);
    }
    if (servedRows !== rows) throw new Error(`the model returned probabilities for ${servedRows} rows for ${rows} rows`);
    if (labelData && labelData.length !== rows) throw new Error(`the model returned ${labelData.length} labels for ${rows} rows`);
  }

  get model_version(): string {
    return this.format.version;
  }

  get predictions(): ClassLabel[] {
    return Array.from({ length: this.rows }, (_, row) => this.labelOf(row));
  }

  get probabilities(): number[][] {
    const width = this.format.classes.length;
    const float32 = this.probabilityData instanceof Float32Array;
    return Array.from({ length: this.rows }, (_, row) =>
      Array.from(this.probabilityData.subarray(row * width, (row + 1) * width), (value) => (float32 ? shortestFloat32(value) : value)),
    );
  }

  get classes(): ClassLabel[] {
    return [...this.format.classes];
  }

  toJSON(): ClassificationPredictResponse {
    return { predictions: this.predictions, probabilities: this.probabilities, classes: this.classes, model_version: this.model_version };
  }

  /** The answer's JSON, byte for byte what `JSON.stringify` writes for it. */
  json(): string {
    const { classes, labelJson, tail } = this.format;
    const width = classes.length;
    const data = this.probabilityData;
    const number = data instanceof Float32Array ? float32Json : String;
    let text = '{"predictions":[';
    for (let row = 0; row < this.rows; row++) {
      const label = this.labelOf(row);
      if (row > 0) text += ',';
      text += labelJson.get(label) ?? JSON.stringify(label);
    }
    text += '],"probabilities":[';
    for (let row = 0, index = 0; row < this.rows; row++) {
      text += row > 0 ? ',[' : '[';
      for (let column = 0; column < width; column++, index++) {
        if (column > 0) text += ',';
        text += number(data[index]);
      }
      text += ']';
    }
    return `${text}]${tail}`;
  }

  /** The label output's value, else the class with the highest probability (the first of equal ones). */
  private labelOf(row: number): ClassLabel {
    const labels = this.labelData;
    if (labels) {
      const label = labels[row];
      return typeof label === 'bigint' ? Number(label) : label;
    }
    const width = this.format.classes.length;
    const data = this.probabilityData;
    let best = row * width;
    for (let index = best + 1; index < (row + 1) * width; index++) if (data[index] > data[best]) best = index;
    return this.format.classes[best - row * width];
  }
}
