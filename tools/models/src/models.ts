import type { ModelMetadata } from '@mlbg/contract';
import { Sample } from './dataset';
import { applyTransform, FeatureTransform, predictLinear } from './feature-transform';
import { fitLeastSquares, rootMeanSquaredError } from './least-squares';
import { LinearModelSpec } from './onnx-export';

/** How one shipped model is trained. */
export interface Recipe {
  version: string;
  family: string;
  transform: FeatureTransform;
  /** Train on the first this-many training rows; all of them when undefined. */
  trainingRowLimit?: number;
}

// The demo data has one feature, x.
const FEATURE_COUNT = 1;
// rmse is stored as a string; 6 decimals is far below the noise (sd 0.5) and stable.
const RMSE_DECIMALS = 6;

/**
 * The two shipped versions. v1.1.0 differs from v1.0.0 in both data and features, so their
 * predictions differ clearly: more rows, and x² beside x (the data's curve is quadratic).
 */
export const RECIPES: readonly Recipe[] = [
  { version: 'v1.0.0', family: 'linear', transform: 'identity', trainingRowLimit: 200 },
  { version: 'v1.1.0', family: 'polynomial-2', transform: 'polynomial-2' },
];

/** A trained model: what to export, and the numbers that describe it. */
export interface TrainedModel {
  spec: LinearModelSpec & { transform: FeatureTransform; metadata: Record<keyof ModelMetadata, string> };
  trainingRows: number;
  rmse: number;
}

/**
 * Fits a recipe by least squares on its training rows, rounds the coefficients to float32 (what
 * the ONNX file stores) and measures the held-out RMSE with those float32 coefficients.
 */
export function trainModel(recipe: Recipe, samples: readonly Sample[], trainingDataSha256: string): TrainedModel {
  const train = samples.filter((s) => s.split === 'train').slice(0, recipe.trainingRowLimit);
  const holdout = samples.filter((s) => s.split === 'holdout');
  const fit = fitLeastSquares(
    train.map((s) => applyTransform([s.x], recipe.transform)),
    train.map((s) => s.y),
  );
  const model = { weights: fit.weights.map(Math.fround), bias: Math.fround(fit.bias), transform: recipe.transform };
  const rmse = rootMeanSquaredError(
    holdout.map((s) => predictLinear([s.x], model)),
    holdout.map((s) => s.y),
  );
  const metadata: Record<keyof ModelMetadata, string> = {
    model_version: recipe.version,
    feature_count: String(FEATURE_COUNT),
    training_data_sha256: trainingDataSha256,
    training_rows: String(train.length),
    rmse: rmse.toFixed(RMSE_DECIMALS),
    model_family: recipe.family,
  };
  return {
    spec: { featureCount: FEATURE_COUNT, ...model, metadata },
    trainingRows: train.length,
    rmse: Number(metadata.rmse),
  };
}

/**
 * Copies of v1.0.0 for the canary judge's tests, with v1.0.0's signature (one feature in, one
 * prediction out) and its metadata except the version and the held-out RMSE:
 * - `negated-slope`: the slope negated, so it is healthy and fast and wrong (the judge must roll it back on its answers alone);
 * - `honest-copy`: the same weights under a new version (the judge must promote it).
 */
export interface Variant {
  /** Folder under models/fixtures/. */
  name: string;
  version: string;
  negateSlope: boolean;
}

export const VARIANTS: readonly Variant[] = [
  { name: 'negated-slope', version: 'v1.0.1', negateSlope: true },
  { name: 'honest-copy', version: 'v1.0.2', negateSlope: false },
];

/** A variant of a trained model; its RMSE is measured again on the same held-out rows. */
export function variantOf(model: TrainedModel, variant: Variant, samples: readonly Sample[]): TrainedModel {
  const weights = variant.negateSlope ? model.spec.weights.map((weight) => Math.fround(-weight)) : [...model.spec.weights];
  const changed = { weights, bias: model.spec.bias, transform: model.spec.transform };
  const holdout = samples.filter((s) => s.split === 'holdout');
  const rmse = rootMeanSquaredError(
    holdout.map((s) => predictLinear([s.x], changed)),
    holdout.map((s) => s.y),
  );
  const metadata = { ...model.spec.metadata, model_version: variant.version, rmse: rmse.toFixed(RMSE_DECIMALS) };
  return { spec: { ...model.spec, ...changed, metadata }, trainingRows: model.trainingRows, rmse: Number(metadata.rmse) };
}
