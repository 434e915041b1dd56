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
