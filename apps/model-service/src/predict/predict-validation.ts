import { predictRequestFor, type PredictLimits, type PredictRequest, type ValidationIssue } from '@mlbg/contract';
import type { z } from 'zod';
import { ApiError } from '../errors/api-error';

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
      return { loc, msg: issue.message, type: 'too_short' };
    case 'too_big':
      return { loc, msg: issue.message, type: 'too_long' };
    default:
      return { loc, msg: issue.message, type: 'value_error' };
  }
}

/** At most this many issues in one answer: a 10,000-row batch of strings should not echo 10,000 lines. */
const MAX_REPORTED_ISSUES = 20;

/**
 * Checks a `/predict` body against the contract and the service's limits, before anything reaches
 * the model. Too many rows is a 413; any other mismatch is a 422 listing each problem.
 */
export function createPredictValidator(limits: PredictLimits): (body: unknown) => PredictRequest {
  const schema = predictRequestFor(limits);
  return (body) => {
    const rows = (body as { features?: unknown } | null)?.features;
    if (Array.isArray(rows) && rows.length > limits.maxBatchRows) {
      throw new ApiError(
        'BATCH_TOO_LARGE',
        `${rows.length} rows in one request; this service takes at most ${limits.maxBatchRows} (MAX_BATCH_ROWS). Split the batch.`,
      );
    }
    // reportInput: the issue mapping tells a missing value from a wrong one by the input.
    const result = schema.safeParse(body, { reportInput: true });
    if (!result.success) {
      throw new ApiError('VALIDATION_FAILED', result.error.issues.slice(0, MAX_REPORTED_ISSUES).map(toFastApiIssue));
    }
    return result.data;
  };
}
