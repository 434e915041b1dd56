import { z } from 'zod';

/** Limits a running service applies on top of the static request shape. */
export interface PredictLimits {
  /** Features per row, read from the model file. */
  featureCount: number;
  /** Rows per request; more is refused with 413. */
  maxBatchRows: number;
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

/**
 * The request schema a service with these limits accepts: every row has exactly
 * `featureCount` values. (The row limit is a 413, not a 422, so it is checked apart.)
 */
export function predictRequestFor(limits: Pick<PredictLimits, 'featureCount'>) {
  const row = z
    .array(FeatureValue)
    .length(limits.featureCount, `expected ${limits.featureCount} feature(s) per row`);
  return z.object({ features: z.array(row).min(1, 'send at least one row') });
}

/** `POST /predict` answer: one prediction per row, in order, and the version that made them. */
export const PredictResponse = z.object({
  predictions: z.array(z.number()),
  model_version: z.string(),
});
export type PredictResponse = z.infer<typeof PredictResponse>;
