import { FLOAT32_MAX, numericValueProblem, predictRequestFor, type PredictLimits, type ValidationIssue } from '@mlbg/contract';
import type { z } from 'zod';
import { ApiError } from '../errors/api-error';

/**
 * A validated request, already laid out as the model's input tensor data (row-major, one value per column):
 * float32 when every column is FP32 (the common case), else float64, which holds every int32 and every
 * int64 up to 2^53 exactly.
 */
export interface PredictBatch {
  rows: number;
  input: Float32Array | Float64Array;
}

/** FastAPI's `type` and `msg` for the common cases, so clients of the original see familiar errors. */
function toFastApiIssue(issue: z.core.$ZodIssue): ValidationIssue {
  const loc = ['body', ...issue.path.map((part) => (typeof part === 'number' ? part : String(part)))];
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return { loc, msg: 'Field required', type: 'missing' };
      if (issue.expected === 'number') {
        return typeof issue.input === 'number'
          ? { loc, msg: 'Input should be a finite number', type: 'finite_number' }
          : { loc, msg: 'Input should be a valid number', type: 'float_type' };
      }
      if (issue.expected === 'array') return { loc, msg: 'Input should be a valid list', type: 'list_type' };
      if (issue.expected === 'object') {
        return { loc, msg: 'Input should be a valid dictionary or object to extract fields from', type: 'model_attributes_type' };
      }
      return { loc, msg: issue.message, type: `${issue.expected}_type` };
    }
    case 'too_small':
      return { loc, msg: issue.message, type: issue.origin === 'number' ? 'greater_than_equal' : 'too_short' };
    case 'too_big':
      return { loc, msg: issue.message, type: issue.origin === 'number' ? 'less_than_equal' : 'too_long' };
    case 'custom': {
      // A value that does not fit its column's type (see numericValueProblem).
      const datatype = (issue.params as { datatype?: string } | undefined)?.datatype;
      const type = issue.message.startsWith('must be a whole number') ? 'int_from_float' : datatype ? 'value_out_of_range' : 'value_error';
      return { loc, msg: issue.message, type };
    }
    default:
      return { loc, msg: issue.message, type: 'value_error' };
  }
}

/** At most this many issues in one answer: a 10,000-row batch of strings should not echo 10,000 lines. */
const MAX_REPORTED_ISSUES = 20;

/**
 * Checks a `/predict` body against the contract and the service's limits, before anything reaches
 * the model. Too many rows is a 413; any other mismatch is a 422 listing each problem.
 *
 * Valid bodies take one pass that checks each value and writes it straight into the tensor data
 * (the batch is copied once). Only a body that fails that pass goes through the contract's zod
 * schema, which names every problem; both accept exactly the same bodies (a property test checks it).
 */
export function createPredictValidator(limits: PredictLimits): (body: unknown) => PredictBatch {
  const schema = predictRequestFor(limits);
  const width = limits.featureCount;
  const columnTypes = limits.columnTypes;
  const allFloat32 = columnTypes === undefined || columnTypes.every((type) => type === 'FP32');

  const float32Pass = (features: unknown[]): PredictBatch | undefined => {
    const input = new Float32Array(features.length * width);
    for (let i = 0; i < features.length; i++) {
      const row = features[i];
      if (!Array.isArray(row) || row.length !== width) return undefined;
      for (let j = 0; j < width; j++) {
        const value = row[j];
        if (typeof value !== 'number' || !(value >= -FLOAT32_MAX && value <= FLOAT32_MAX)) return undefined;
        input[i * width + j] = value;
      }
    }
    return { rows: features.length, input };
  };
  const typedPass = (features: unknown[], types: NonNullable<typeof columnTypes>): PredictBatch | undefined => {
    const input = new Float64Array(features.length * width);
    for (let i = 0; i < features.length; i++) {
      const row = features[i];
      if (!Array.isArray(row) || row.length !== width) return undefined;
      for (let j = 0; j < width; j++) {
        const value = row[j];
        if (typeof value !== 'number' || numericValueProblem(value, types[j]) !== undefined) return undefined;
        input[i * width + j] = value;
      }
    }
    return { rows: features.length, input };
  };
  const fastPass = allFloat32 || columnTypes === undefined ? float32Pass : (features: unknown[]) => typedPass(features, columnTypes);

  return (body) => {
    const features = typeof body === 'object' && body !== null ? (body as { features?: unknown }).features : undefined;
    if (Array.isArray(features)) {
      if (features.length > limits.maxBatchRows) {
        throw new ApiError(
          'BATCH_TOO_LARGE',
          `${features.length} rows in one request; this service takes at most ${limits.maxBatchRows} (MAX_BATCH_ROWS). Split the batch.`,
        );
      }
      const batch = features.length > 0 ? fastPass(features) : undefined;
      if (batch) return batch;
    }
    // reportInput: the issue mapping tells a missing value from a wrong one by the input.
    const result = schema.safeParse(body, { reportInput: true });
    if (result.success) {
      throw new Error('the contract accepted a /predict body that the fast check refused; the two disagree');
    }
    throw new ApiError('VALIDATION_FAILED', result.error.issues.slice(0, MAX_REPORTED_ISSUES).map(toFastApiIssue));
  };
}
