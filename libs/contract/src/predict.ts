import { z } from 'zod';
import { ClassLabel, type NumericInputDatatype } from './signature';

/** Limits a running service applies on top of the static request shape. */
export interface PredictLimits {
  /** Features per row, read from the model file. */
  featureCount: number;
  /** Rows per request; more is refused with 413. */
  maxBatchRows: number;
  /** The element type of each column, when not all are FP32 (a fraction for an int column is then a 422). */
  columnTypes?: readonly NumericInputDatatype[];
}

/** The largest float32: models take float32, so a larger number would silently become Infinity. */
export const FLOAT32_MAX = 3.4028234663852886e38;

const FeatureValue = z
  .number()
  .min(-FLOAT32_MAX, 'must fit in a float32 (between -3.4e38 and 3.4e38)')
  .max(FLOAT32_MAX, 'must fit in a float32 (between -3.4e38 and 3.4e38)');
const FeatureRow = z.array(FeatureValue).min(1, 'a row needs at least one feature');

/** `POST /predict` body: one row of numbers per prediction, `{"features": [[1],[2],[3]]}`. */
export const PredictRequest = z.object({
  features: z.array(FeatureRow).min(1, 'send at least one row'),
});
export type PredictRequest = z.infer<typeof PredictRequest>;

/** The integer ranges JSON numbers must fall in for int inputs; INT64 stops where doubles stop being exact. */
const INTEGER_RANGES = {
  INT32: { min: -(2 ** 31), max: 2 ** 31 - 1 },
  INT64: { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER },
} as const;

/**
 * Why `value` can not be fed to a column of `datatype` (e.g. "must be a whole number for an INT64 column"),
 * or undefined when it can. One definition for the schema below and the service's own fast check.
 */
export function numericValueProblem(value: number, datatype: NumericInputDatatype): string | undefined {
  if (!Number.isFinite(value)) return 'must be a finite number';
  switch (datatype) {
    case 'FP32':
      return value >= -FLOAT32_MAX && value <= FLOAT32_MAX ? undefined : 'must fit in a float32 (between -3.4e38 and 3.4e38)';
    case 'FP64':
      return undefined;
    case 'INT32':
    case 'INT64': {
      if (!Number.isInteger(value)) return `must be a whole number for an ${datatype} column`;
      const { min, max } = INTEGER_RANGES[datatype];
      return value >= min && value <= max ? undefined : `must be between ${min} and ${max} for an ${datatype} column`;
    }
  }
}

/**
 * The request schema a service with these limits accepts: every row has exactly
 * `featureCount` values, each fitting its column's type. (The row limit is a 413, not a 422, so it is checked apart.)
 */
export function predictRequestFor(limits: Pick<PredictLimits, 'featureCount' | 'columnTypes'>) {
  const lengthMessage = `expected ${limits.featureCount} feature(s) per row`;
  const columnTypes = limits.columnTypes;
  const row =
    columnTypes === undefined || columnTypes.every((type) => type === 'FP32')
      ? z.array(FeatureValue).length(limits.featureCount, lengthMessage)
      : z
          .array(z.number())
          .length(limits.featureCount, lengthMessage)
          .superRefine((values, context) => {
            values.forEach((value, column) => {
              const problem = column < columnTypes.length ? numericValueProblem(value, columnTypes[column]) : undefined;
              if (problem)
                context.addIssue({
                  code: 'custom',
                  path: [column],
                  message: problem,
                  input: value,
                  params: { datatype: columnTypes[column] },
                });
            });
          });
  return z.object({ features: z.array(row).min(1, 'send at least one row') });
}

/** `POST /predict` answer: one prediction per row, in order, and the version that made them. */
export const PredictResponse = z.object({
  predictions: z.array(z.number()),
  model_version: z.string(),
});
export type PredictResponse = z.infer<typeof PredictResponse>;

/** `POST /predict` answer of a model with several regression targets (output `[N, K]`): K numbers per row. */
export const MultiTargetPredictResponse = z.object({
  predictions: z.array(z.array(z.number())),
  model_version: z.string(),
});
export type MultiTargetPredictResponse = z.infer<typeof MultiTargetPredictResponse>;

/**
 * `POST /predict` answer of a classifier: one label per row, one probability per class and row
 * (in the order of `classes`), and the class labels.
 */
export const ClassificationPredictResponse = z.object({
  predictions: z.array(ClassLabel),
  probabilities: z.array(z.array(z.number())),
  classes: z.array(ClassLabel),
  model_version: z.string(),
});
export type ClassificationPredictResponse = z.infer<typeof ClassificationPredictResponse>;

/** What `POST /predict` answers, by the model's kind (see `GET /model`). */
export const AnyPredictResponse = z.union([PredictResponse, MultiTargetPredictResponse, ClassificationPredictResponse]);
export type AnyPredictResponse = z.infer<typeof AnyPredictResponse>;
