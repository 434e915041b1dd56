/**
 * How raw features become the vector the weights multiply:
 * - `identity`: z = x
 * - `polynomial-2`: z = [x₁ … x_F, x₁² … x_F²] (the squares follow the raw features)
 */
export const FEATURE_TRANSFORMS = ['identity', 'polynomial-2'] as const;
/** One of {@link FEATURE_TRANSFORMS}. */
export type FeatureTransform = (typeof FEATURE_TRANSFORMS)[number];

/** Length of the transformed vector for `featureCount` raw features. */
export function transformedWidth(featureCount: number, transform: FeatureTransform): number {
  return transform === 'polynomial-2' ? 2 * featureCount : featureCount;
}

/** Applies the transform to one row of raw features. */
export function applyTransform(row: readonly number[], transform: FeatureTransform): number[] {
  return transform === 'polynomial-2' ? [...row, ...row.map((x) => x * x)] : [...row];
}

/** The closed form every model here computes: bias + Σ weightsᵢ · transform(row)ᵢ. */
export function predictLinear(
  row: readonly number[],
  model: { weights: readonly number[]; bias: number; transform: FeatureTransform },
): number {
  const z = applyTransform(row, model.transform);
  return z.reduce((sum, value, i) => sum + model.weights[i] * value, model.bias);
}
