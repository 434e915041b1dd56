export { renderArtifacts, MODELS_DIR, THREE_FEATURE_FIXTURE_DIR } from './artifacts';
export type { Artifact, ModelSummary } from './artifacts';
export { generateTrainingCsv, parseTrainingCsv, TRAINING_CSV_PATH } from './dataset';
export type { Sample } from './dataset';
export { applyTransform, FEATURE_TRANSFORMS, predictLinear } from './feature-transform';
export type { FeatureTransform } from './feature-transform';
export { CARD_FILE, MODEL_FILE, ModelCard } from './model-card';
export { RECIPES, trainModel } from './models';
export type { Recipe, TrainedModel } from './models';
export { buildLinearModel, PRODUCER_NAME } from './onnx-export';
export type { LinearModelSpec } from './onnx-export';
export {
  buildClassifierModel,
  CLASSIFIER_CLASSES,
  CLASSIFIER_DIR,
  ClassifierCard,
  classifierProbabilities,
  renderClassifier,
  trainClassifier,
} from './classifier';
