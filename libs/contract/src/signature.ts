import { z } from 'zod';

/**
 * Tensor element types, named as the Open Inference Protocol (V2) names them. `BYTES` carries strings
 * (e.g. a classifier's string labels).
 */
export const TensorDatatype = z.enum([
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
]);
export type TensorDatatype = z.infer<typeof TensorDatatype>;

/** The numeric input types the service converts JSON numbers to. */
export const NUMERIC_INPUT_DATATYPES = ['FP32', 'FP64', 'INT64', 'INT32'] as const satisfies readonly TensorDatatype[];
export type NumericInputDatatype = (typeof NUMERIC_INPUT_DATATYPES)[number];

/** One input or output tensor of a model: name, element type and shape (-1 for a variable dimension, e.g. the batch). */
export const TensorSignature = z.object({
  name: z.string().min(1),
  datatype: TensorDatatype,
  shape: z.array(z.int().min(-1)),
});
export type TensorSignature = z.infer<typeof TensorSignature>;

export const ModelTask = z.enum(['regression', 'classification']);
export type ModelTask = z.infer<typeof ModelTask>;

/** A class label: a string, or an integer for models whose labels are int64. */
export const ClassLabel = z.union([z.string(), z.number()]);
export type ClassLabel = z.infer<typeof ClassLabel>;

const SIGNATURE_FIELDS = {
  task: ModelTask,
  inputs: z.array(TensorSignature).min(1),
  outputs: z.array(TensorSignature).min(1),
  /** The class labels, in the order of the probability columns; only for classifiers. */
  classes: z.array(ClassLabel).min(1).optional(),
};

const namesClassesIfClassifier = (signature: { task: ModelTask; classes?: ClassLabel[] }) =>
  (signature.task === 'classification') === (signature.classes !== undefined);
const CLASSES_RULE = { message: 'a classifier names its classes, and only a classifier does', path: ['classes'] };

/**
 * What a model takes and gives, as clients see it: the service's `/model`, `/health` (`signature`) and
 * V2 metadata report it, and the deploy tool compares the live color's with a candidate's.
 */
export const ModelSignature = z.object(SIGNATURE_FIELDS).refine(namesClassesIfClassifier, CLASSES_RULE);
export type ModelSignature = z.infer<typeof ModelSignature>;

/** `GET /model`: the signature plus what identifies the model. */
export const ModelInfoResponse = z
  .object({
    /** From the model's metadata (`model_name`), else its file name; the V2 routes use it. */
    name: z.string().min(1),
    version: z.string(),
    sha256: z.string(),
    platform: z.string(),
    ...SIGNATURE_FIELDS,
    /** The file's `metadata_props`, as strings. */
    metadata: z.record(z.string(), z.string()),
  })
  .refine(namesClassesIfClassifier, CLASSES_RULE);
export type ModelInfoResponse = z.infer<typeof ModelInfoResponse>;

const list = (values: readonly (string | number)[]) => `[${values.map((value) => JSON.stringify(value)).join(', ')}]`;
const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** The differences between two tensors of the same name and kind, one sentence each. */
function tensorDifferences(kind: 'input' | 'output', live: TensorSignature, candidate: TensorSignature): string[] {
  const differences: string[] = [];
  if (live.datatype !== candidate.datatype) {
    differences.push(`${kind} '${candidate.name}' is ${candidate.datatype}, live's is ${live.datatype}`);
  }
  const sameRank = live.shape.length === candidate.shape.length;
  const lastDiffers = live.shape.at(-1) !== candidate.shape.at(-1);
  const leadingSame = live.shape.slice(0, -1).every((dim, i) => dim === candidate.shape[i]);
  if (sameRank && candidate.shape.length === 2 && leadingSame && lastDiffers) {
    const verb = kind === 'input' ? 'takes' : 'gives';
    differences.push(`${kind} '${candidate.name}' ${verb} ${candidate.shape[1]} columns, live ${verb} ${live.shape[1]}`);
  } else if (shapeText(live.shape) !== shapeText(candidate.shape)) {
    differences.push(`${kind} '${candidate.name}' has shape ${shapeText(candidate.shape)}, live's has ${shapeText(live.shape)}`);
  }
  return differences;
}

function tensorListDifferences(
  kind: 'input' | 'output',
  live: readonly TensorSignature[],
  candidate: readonly TensorSignature[],
): string[] {
  const differences: string[] = [];
  const liveByName = new Map(live.map((tensor) => [tensor.name, tensor]));
  const candidateNames = new Set(candidate.map((tensor) => tensor.name));
  for (const tensor of live) {
    if (!candidateNames.has(tensor.name)) differences.push(`${kind} '${tensor.name}' is missing (live has it)`);
  }
  for (const tensor of candidate) {
    const liveTensor = liveByName.get(tensor.name);
    if (!liveTensor) differences.push(`${kind} '${tensor.name}' is new (live has no such ${kind})`);
    else differences.push(...tensorDifferences(kind, liveTensor, tensor));
  }
  const liveOrder = live.map((tensor) => tensor.name);
  const candidateOrder = candidate.map((tensor) => tensor.name);
  const sameNames = liveOrder.length === candidateOrder.length && liveOrder.every((name) => candidateNames.has(name));
  if (sameNames && liveOrder.some((name, i) => name !== candidateOrder[i])) {
    // /predict maps a row's columns to the inputs in this order, so the order is part of the contract.
    differences.push(`${kind}s are in another order: ${list(candidateOrder)}, live's are ${list(liveOrder)}`);
  }
  return differences;
}

/**
 * What a client of `live` would notice if `candidate` answered instead: one human sentence per
 * difference (e.g. "input 'features' takes 4 columns, live takes 1"), empty when they are compatible.
 * Pure; the deploy tool's signature gate prints these.
 */
export function describeSignatureDifferences(live: ModelSignature, candidate: ModelSignature): string[] {
  const differences: string[] = [];
  if (live.task !== candidate.task) differences.push(`task differs: it is a ${candidate.task} model, live is a ${live.task} model`);
  differences.push(...tensorListDifferences('input', live.inputs, candidate.inputs));
  differences.push(...tensorListDifferences('output', live.outputs, candidate.outputs));
  if (live.classes && candidate.classes && list(live.classes) !== list(candidate.classes)) {
    differences.push(`classes differ: ${list(candidate.classes)} vs live's ${list(live.classes)}`);
  }
  return differences;
}
