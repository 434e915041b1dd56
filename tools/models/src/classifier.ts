import { MODEL_INPUT_NAME } from '@mlbg/contract';
import { onnx } from 'onnx-proto';
import { z } from 'zod';
import { mulberry32 } from './dataset';
import { MODEL_FILE, sha256 } from './model-card';
import { PRODUCER_NAME } from './onnx-export';

/** Folder of the shipped classifier example. */
export const CLASSIFIER_DIR = 'models/classifier';
export const CLASSIFIER_LABEL_OUTPUT = 'label';
export const CLASSIFIER_PROBABILITY_OUTPUT = 'probabilities';
const IR_VERSION = 8;
const ML_DOMAIN = 'ai.onnx.ml';
const SEED = 20240611;
const ROWS_PER_CLASS = 50;
const SPREAD = 0.35;
const GENERATED_BY = 'nx run models:build (tools/models/src/classifier.ts); do not edit';

/** Three classes around the mean measurements of the iris species (sepal and petal length and width, cm). */
export const CLASSIFIER_CLASSES = ['setosa', 'versicolor', 'virginica'] as const;
const CLASS_CENTERS = [
  [5.01, 3.43, 1.46, 0.25],
  [5.94, 2.77, 4.26, 1.33],
  [6.59, 2.97, 5.55, 2.03],
];
const FEATURE_COUNT = CLASS_CENTERS[0].length;

/**
 * `model.json` beside the classifier: everything needed to compute its answer in closed form,
 * scores = weights · x + biases (one row of weights per class), probabilities = softmax(scores),
 * label = the class of the highest probability. Weights and biases are the float32 values in the file.
 */
export const ClassifierCard = z.object({
  generated_by: z.string(),
  model_file: z.literal(MODEL_FILE),
  model_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  input: z.literal(MODEL_INPUT_NAME),
  outputs: z.object({ label: z.literal(CLASSIFIER_LABEL_OUTPUT), probabilities: z.literal(CLASSIFIER_PROBABILITY_OUTPUT) }),
  feature_count: z.number().int().positive(),
  classes: z.array(z.string()),
  weights: z.array(z.array(z.number())),
  biases: z.array(z.number()),
  training_rows: z.number().int().positive(),
  metadata: z.record(z.string(), z.string()),
});
export type ClassifierCard = z.infer<typeof ClassifierCard>;

/** Seeded rows around each class center, in class order. */
export function classifierTrainingSet(): { rows: number[][]; classes: number[] } {
  const random = mulberry32(SEED);
  // Box-Muller: normal noise from the uniform stream.
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const rows: number[][] = [];
  const classes: number[] = [];
  CLASS_CENTERS.forEach((center, label) => {
    for (let i = 0; i < ROWS_PER_CLASS; i++) {
      rows.push(center.map((mean) => mean + SPREAD * normal()));
      classes.push(label);
    }
  });
  return { rows, classes };
}

/**
 * Training, in closed form: the linear discriminant of Gaussian classes with one shared spherical
 * covariance σ², score_c(x) = (μ_c · x − |μ_c|² / 2) / σ², whose softmax is the posterior under equal priors.
 */
export function trainClassifier(): { weights: number[][]; biases: number[]; trainingRows: number } {
  const { rows, classes } = classifierTrainingSet();
  const means = CLASS_CENTERS.map((_, label) => {
    const members = rows.filter((_, i) => classes[i] === label);
    return Array.from({ length: FEATURE_COUNT }, (_, j) => members.reduce((sum, row) => sum + row[j], 0) / members.length);
  });
  const squaredResiduals = rows.reduce(
    (sum, row, i) => sum + row.reduce((inner, value, j) => inner + (value - means[classes[i]][j]) ** 2, 0),
    0,
  );
  const variance = squaredResiduals / (rows.length * FEATURE_COUNT);
  return {
    weights: means.map((mean) => mean.map((value) => Math.fround(value / variance))),
    biases: means.map((mean) => Math.fround(-mean.reduce((sum, value) => sum + value * value, 0) / (2 * variance))),
    trainingRows: rows.length,
  };
}

/** The classifier as ONNX bytes: an ONNX-ML LinearClassifier with string labels and softmax probabilities, as skl2onnx lays one out. */
export function buildClassifierModel(
  weights: readonly number[][],
  biases: readonly number[],
  metadata: Readonly<Record<string, string>>,
): Uint8Array {
  const floats = (name: string, values: number[]) => ({ name, type: onnx.AttributeProto.AttributeType.FLOATS, floats: values });
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [
      { domain: '', version: 13 },
      { domain: ML_DOMAIN, version: 1 },
    ],
    producerName: PRODUCER_NAME,
    graph: {
      name: 'linear_classifier',
      node: [
        {
          opType: 'LinearClassifier',
          domain: ML_DOMAIN,
          name: 'linear_classifier',
          input: [MODEL_INPUT_NAME],
          output: [CLASSIFIER_LABEL_OUTPUT, CLASSIFIER_PROBABILITY_OUTPUT],
          attribute: [
            floats('coefficients', weights.flat()),
            floats('intercepts', [...biases]),
            {
              name: 'classlabels_strings',
              type: onnx.AttributeProto.AttributeType.STRINGS,
              strings: CLASSIFIER_CLASSES.map((label) => Buffer.from(label)),
            },
            { name: 'post_transform', type: onnx.AttributeProto.AttributeType.STRING, s: Buffer.from('SOFTMAX') },
            { name: 'multi_class', type: onnx.AttributeProto.AttributeType.INT, i: 0 },
          ],
        },
      ],
      input: [tensorValue(MODEL_INPUT_NAME, onnx.TensorProto.DataType.FLOAT, [FEATURE_COUNT])],
      output: [
        tensorValue(CLASSIFIER_LABEL_OUTPUT, onnx.TensorProto.DataType.STRING, []),
        tensorValue(CLASSIFIER_PROBABILITY_OUTPUT, onnx.TensorProto.DataType.FLOAT, [CLASSIFIER_CLASSES.length]),
      ],
    },
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}

function tensorValue(name: string, elemType: number, widths: number[]): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: [{ dimParam: 'N' }, ...widths.map((dimValue) => ({ dimValue }))] } } } };
}

/** The shipped classifier's files: model.onnx and its card. */
export function renderClassifier(): { bytes: Uint8Array; card: ClassifierCard } {
  const { weights, biases, trainingRows } = trainClassifier();
  const metadata = {
    model_name: 'iris-classifier',
    model_version: 'v1.0.0',
    model_family: 'gaussian-linear-discriminant',
    task: 'classification',
    training_rows: String(trainingRows),
  };
  const bytes = buildClassifierModel(weights, biases, metadata);
  const card: ClassifierCard = {
    generated_by: GENERATED_BY,
    model_file: MODEL_FILE,
    model_sha256: sha256(bytes),
    input: MODEL_INPUT_NAME,
    outputs: { label: CLASSIFIER_LABEL_OUTPUT, probabilities: CLASSIFIER_PROBABILITY_OUTPUT },
    feature_count: FEATURE_COUNT,
    classes: [...CLASSIFIER_CLASSES],
    weights,
    biases,
    training_rows: trainingRows,
    metadata,
  };
  return { bytes, card };
}

/** The card's closed form, in float64: one probability per class. */
export function classifierProbabilities(card: ClassifierCard, row: readonly number[]): number[] {
  const scores = card.weights.map((weights, c) => weights.reduce((sum, weight, j) => sum + weight * row[j], card.biases[c]));
  const top = Math.max(...scores);
  const exps = scores.map((score) => Math.exp(score - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((value) => value / total);
}
