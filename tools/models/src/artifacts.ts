import { CLASSIFIER_DIR, renderClassifier } from './classifier';
import { generateTrainingCsv, parseTrainingCsv, TRAINING_CSV_PATH } from './dataset';
import { CARD_FILE, MODEL_FILE, modelCard, renderCard, sha256 } from './model-card';
import { RECIPES, VARIANTS, trainModel, variantOf } from './models';
import { buildLinearModel, LinearModelSpec } from './onnx-export';

/** Folder of the shipped models, one sub-folder per version. */
export const MODELS_DIR = 'models';
/** The bring-your-own fixture: 3 features, no metadata_props, as another exporter might write. */
export const THREE_FEATURE_FIXTURE_DIR = `${MODELS_DIR}/fixtures/three-features`;
/** v1.0.0's variants for the canary judge's tests (`models.ts` VARIANTS), one folder each. */
export const VARIANT_DIR = (name: string) => `${MODELS_DIR}/fixtures/${name}`;
/** The trained version the variants are made from. */
const VARIANT_SOURCE = 'v1.0.0';

const THREE_FEATURE_SPEC: LinearModelSpec = { featureCount: 3, weights: [0.5, -1.25, 2], bias: 0.75 };

/** One generated file, path relative to the workspace root. */
export interface Artifact {
  path: string;
  content: Uint8Array | string;
}

/** One line of the build summary. */
export interface ModelSummary {
  version: string;
  trainingRows: number | undefined;
  rmse: number | undefined;
  path: string;
  sha256: string;
}

/** Everything `nx run models:build` writes, rendered in memory without touching the disk. */
export function renderArtifacts(): { artifacts: Artifact[]; summary: ModelSummary[] } {
  const csv = generateTrainingCsv();
  const samples = parseTrainingCsv(csv);
  const artifacts: Artifact[] = [{ path: TRAINING_CSV_PATH, content: csv }];
  const summary: ModelSummary[] = [];

  const emit = (dir: string, spec: LinearModelSpec, version: string, trainingRows?: number, rmse?: number) => {
    const bytes = buildLinearModel(spec);
    artifacts.push(
      { path: `${dir}/${MODEL_FILE}`, content: bytes },
      { path: `${dir}/${CARD_FILE}`, content: renderCard(modelCard(spec, bytes)) },
    );
    summary.push({ version, trainingRows, rmse, path: `${dir}/${MODEL_FILE}`, sha256: sha256(bytes) });
  };
  for (const recipe of RECIPES) {
    const model = trainModel(recipe, samples, sha256(csv));
    emit(`${MODELS_DIR}/${recipe.version}`, model.spec, recipe.version, model.trainingRows, model.rmse);
    if (recipe.version !== VARIANT_SOURCE) continue;
    for (const variant of VARIANTS) {
      const copy = variantOf(model, variant, samples);
      emit(VARIANT_DIR(variant.name), copy.spec, `${variant.version} (${variant.name} of ${VARIANT_SOURCE})`, copy.trainingRows, copy.rmse);
    }
  }
  emit(THREE_FEATURE_FIXTURE_DIR, THREE_FEATURE_SPEC, 'fixture (3 features, no metadata)');
  const classifier = renderClassifier();
  artifacts.push(
    { path: `${CLASSIFIER_DIR}/${MODEL_FILE}`, content: classifier.bytes },
    { path: `${CLASSIFIER_DIR}/${CARD_FILE}`, content: `${JSON.stringify(classifier.card, null, 2)}\n` },
  );
  summary.push({
    version: `classifier ${classifier.card.metadata['model_version']}`,
    trainingRows: classifier.card.training_rows,
    rmse: undefined,
    path: `${CLASSIFIER_DIR}/${MODEL_FILE}`,
    sha256: classifier.card.model_sha256,
  });
  return { artifacts, summary };
}
