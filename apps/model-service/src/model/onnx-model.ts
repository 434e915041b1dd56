import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { ClassLabel, ModelSignature, NumericInputDatatype, TensorDatatype, TensorSignature } from '@mlbg/contract';
import { onnx } from 'onnx-proto';
import { InferenceSession } from 'onnxruntime-node';
import { classifierNodeLabels, serveZipMapInputs, type ZipMapEdit } from './zipmap';

/**
 * One thread per session: the demo models are a few multiply-adds, and two colors plus nginx
 * share two cores, so extra threads only add contention.
 */
const SESSION_OPTIONS: InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
};

/** onnxruntime's tensor types as the Open Inference Protocol names them. */
export const DATATYPE_OF: Readonly<Record<string, TensorDatatype>> = {
  float32: 'FP32',
  float64: 'FP64',
  float16: 'FP16',
  int64: 'INT64',
  int32: 'INT32',
  int16: 'INT16',
  int8: 'INT8',
  uint64: 'UINT64',
  uint32: 'UINT32',
  uint16: 'UINT16',
  uint8: 'UINT8',
  bool: 'BOOL',
  string: 'BYTES',
};
const NUMERIC_INPUTS: ReadonlySet<string> = new Set<NumericInputDatatype>(['FP32', 'FP64', 'INT64', 'INT32']);
const FLOAT_OUTPUTS: ReadonlySet<string> = new Set<TensorDatatype>(['FP32', 'FP64']);
const LABEL_OUTPUTS: ReadonlySet<string> = new Set<TensorDatatype>(['INT64', 'INT32', 'BYTES']);

/** What the service serves: the inputs it takes (in order) and which one the columns of a `/predict` row go to. */
export interface ServedInput {
  readonly name: string;
  readonly datatype: NumericInputDatatype;
  /** The tensor's shape with the batch as -1: `[-1, F]`, `[-1, 1]` or `[-1]`. */
  readonly shape: readonly number[];
  /** How many columns of a `/predict` row it takes. */
  readonly columns: number;
}

/** How `/predict` turns the model's outputs into its answer. */
export type AnswerPlan =
  | { readonly task: 'regression'; readonly output: string; readonly targets: number }
  | { readonly task: 'classification'; readonly probabilities: string; readonly labels?: string; readonly classes: readonly ClassLabel[] };

/** An ONNX model loaded and checked: what it takes, what `/predict` answers from it, and what identifies it. */
export interface LoadedModel {
  readonly path: string;
  readonly session: InferenceSession;
  /** From metadata `model_name`, else the file name without `.onnx`: the name the V2 routes use. */
  readonly name: string;
  readonly inputs: readonly ServedInput[];
  /** The tensor outputs, as served (a ZipMap output as the tensor that fed it). */
  readonly outputs: readonly TensorSignature[];
  /** Columns of a `/predict` row: the sum of the inputs' columns. */
  readonly featureCount: number;
  /** The element type of each column of a `/predict` row. */
  readonly columnTypes: readonly NumericInputDatatype[];
  readonly answer: AnswerPlan;
  readonly signature: ModelSignature;
  /** Outputs that were ZipMaps and now serve the tensor that fed them (see zipmap.ts). */
  readonly zipMapEdits: readonly ZipMapEdit[];
  /** From the file: metadata `model_version`, else the ONNX `model_version` field, else a content hash. */
  readonly version: string;
  /** Of the file as it is on disk (before any edit at load time). */
  readonly sha256: string;
  /** The file's `metadata_props`, as strings. */
  readonly metadata: Readonly<Record<string, string>>;
}

export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
}

const SUPPORTED_INPUTS = 'one [batch, F] tensor, or one [batch, 1] or [batch] tensor per column, of float32, float64, int64 or int32';
const SUPPORTED_OUTPUTS =
  'a float output [batch], [batch, 1] or [batch, K] (regression), or float probabilities [batch, C] with or without a label output [batch] (classification)';

/** Reads, parses and checks an ONNX file; every failure is a {@link ModelLoadError} that says what to do. */
export async function loadOnnxModel(path: string): Promise<LoadedModel> {
  const bytes = await readModelFile(path);
  const proto = decodeModel(path, bytes);
  const metadata: Record<string, string> = Object.fromEntries(
    (proto.metadataProps ?? []).flatMap((entry) => (entry.key ? [[entry.key, entry.value ?? '']] : [])),
  );
  const graph = proto.graph as onnx.IGraphProto;
  const zipMapEdits = serveZipMapInputs(graph);
  const sessionBytes = zipMapEdits.length > 0 ? onnx.ModelProto.encode(proto).finish() : bytes;
  const session = await createSession(path, sessionBytes);

  const inputs = servedInputs(path, session);
  const featureCount = inputs.reduce((sum, input) => sum + input.columns, 0);
  if (metadata['feature_count'] !== undefined && Number(metadata['feature_count']) !== featureCount) {
    throw new ModelLoadError(
      `${path} says feature_count=${metadata['feature_count']} in its metadata but its inputs take ${featureCount}; re-export the model.`,
    );
  }
  const outputs = session.outputMetadata.flatMap((output) => (output.isTensor ? [tensorSignature(output)] : []));
  const answer = answerPlan(path, graph, outputs, metadata, zipMapEdits);
  const signature: ModelSignature = {
    task: answer.task,
    inputs: inputs.map(({ name, datatype, shape }) => ({ name, datatype, shape: [...shape] })),
    outputs,
    ...(answer.task === 'classification' ? { classes: [...answer.classes] } : {}),
  };
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return {
    path,
    session,
    name: metadata['model_name'] || basename(path, extname(path)),
    inputs,
    outputs,
    featureCount,
    columnTypes: inputs.flatMap((input) => Array<NumericInputDatatype>(input.columns).fill(input.datatype)),
    answer,
    signature,
    zipMapEdits,
    version: versionOf(metadata, proto, sha256),
    sha256,
    metadata,
  };
}

async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ModelLoadError(
        `model file not found: ${path}. Set MODEL_PATH to an .onnx file (the shipped ones are models/v1.0.0/model.onnx and models/v1.1.0/model.onnx).`,
      );
    }
    throw new ModelLoadError(`cannot read model file ${path}: ${(error as Error).message}`);
  }
}

function decodeModel(path: string, bytes: Uint8Array): onnx.ModelProto {
  try {
    const proto = onnx.ModelProto.decode(bytes);
    if (!proto.graph) throw new Error('it has no graph');
    return proto;
  } catch (error) {
    throw new ModelLoadError(
      `${path} is not a valid ONNX model (${(error as Error).message}). Re-export it or point MODEL_PATH at another file.`,
    );
  }
}

async function createSession(path: string, bytes: Uint8Array): Promise<InferenceSession> {
  try {
    return await InferenceSession.create(bytes, SESSION_OPTIONS);
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new ModelLoadError(`onnxruntime cannot load ${path}: ${reason}. Re-export the model or point MODEL_PATH at another file.`);
  }
}

/** A symbolic or unknown dimension is -1, as V2 writes variable dimensions. */
function tensorSignature(metadata: InferenceSession.TensorValueMetadata): TensorSignature {
  return {
    name: metadata.name,
    datatype: DATATYPE_OF[metadata.type] ?? 'BYTES',
    shape: metadata.shape.map((dim) => (typeof dim === 'number' && dim >= 0 ? dim : -1)),
  };
}

function describe(metadata: InferenceSession.ValueMetadata): string {
  return metadata.isTensor ? `${metadata.type} [${metadata.shape.join(', ')}]` : 'a non-tensor value';
}

function servedInputs(path: string, session: InferenceSession): ServedInput[] {
  if (session.inputMetadata.length === 0)
    throw new ModelLoadError(`${path} has no input; the service serves models with ${SUPPORTED_INPUTS}.`);
  const single = session.inputMetadata.length === 1;
  return session.inputMetadata.map((input) => {
    const refuse = (why: string) =>
      new ModelLoadError(
        `${path} takes ${describe(input)} as input "${input.name}"${why}; the service serves models with ${SUPPORTED_INPUTS}.`,
      );
    if (!input.isTensor) throw refuse('');
    const { datatype, shape } = tensorSignature(input);
    if (!NUMERIC_INPUTS.has(datatype)) throw refuse('');
    const columns = shape.length === 1 ? 1 : shape.length === 2 ? shape[1] : 0;
    if (columns < 1) throw refuse(shape.length === 2 ? ' (its number of columns is not fixed)' : '');
    if (!single && columns !== 1)
      throw refuse(` among ${session.inputMetadata.length} inputs (with several inputs, each takes one column)`);
    return { name: input.name, datatype: datatype as NumericInputDatatype, shape: [-1, ...shape.slice(1)], columns };
  });
}

/** The node that writes `name`, looking through Identity nodes (as a ZipMap edit leaves one). */
function producerOf(graph: onnx.IGraphProto, name: string): onnx.INodeProto | undefined {
  const node = graph.node?.find((candidate) => candidate.output?.includes(name));
  if (node?.opType === 'Identity' && node.input?.[0]) return producerOf(graph, node.input[0]) ?? node;
  return node;
}

/**
 * Which outputs `/predict` answers from, and whether the model is a classifier: it is one when it has a
 * label output beside float probabilities, when a ZipMap fed its probabilities, when they come straight
 * from a Softmax, or when its metadata says `task=classification`. Metadata `task=regression` says otherwise.
 */
function answerPlan(
  path: string,
  graph: onnx.IGraphProto,
  outputs: readonly TensorSignature[],
  metadata: Record<string, string>,
  zipMapEdits: readonly ZipMapEdit[],
): AnswerPlan {
  const seen =
    outputs.length === 0
      ? 'no tensor output'
      : outputs.map((output) => `${output.name} ${output.datatype} [${output.shape.join(', ')}]`).join(', ');
  const refuse = (why: string) => new ModelLoadError(`${path} has ${seen}${why}; the service serves models with ${SUPPORTED_OUTPUTS}.`);
  const task = metadata['task'];
  if (task !== undefined && task !== 'regression' && task !== 'classification') {
    throw new ModelLoadError(
      `${path} says task=${task} in its metadata; the service knows task=regression and task=classification. Fix the metadata or remove it.`,
    );
  }
  const isRows = (output: TensorSignature) => output.shape.length === 1 || (output.shape.length === 2 && output.shape[1] === 1);
  const labels = outputs.find((output) => LABEL_OUTPUTS.has(output.datatype) && isRows(output));
  const floats = outputs.filter((output) => FLOAT_OUTPUTS.has(output.datatype));
  const probabilities = floats.find((output) => output.shape.length === 2 && output.shape[1] > 1);
  const fromZipMap = probabilities !== undefined && zipMapEdits.some((edit) => edit.output === probabilities.name);
  const fromSoftmax = probabilities !== undefined && producerOf(graph, probabilities.name)?.opType === 'Softmax';
  const classify =
    task === 'classification' || (task === undefined && probabilities !== undefined && (labels !== undefined || fromZipMap || fromSoftmax));

  if (!classify) {
    const output = floats[0];
    if (!output || output.shape.length > 2 || output.shape.length === 0 || (output.shape.length === 2 && output.shape[1] < 1))
      throw refuse('');
    return { task: 'regression', output: output.name, targets: output.shape.length === 1 ? 1 : output.shape[1] };
  }
  if (!probabilities) throw refuse(' (a classifier needs float probabilities [batch, C] with a fixed C)');
  const columns = probabilities.shape[1];
  const classes = classesOf(
    path,
    graph,
    labels,
    metadata,
    columns,
    fromZipMap ? zipMapEdits.find((edit) => edit.output === probabilities.name)?.classes : undefined,
  );
  return { task: 'classification', probabilities: probabilities.name, ...(labels ? { labels: labels.name } : {}), classes };
}

/** The class labels in the order of the probability columns: the label output's values, else metadata `classes` (a JSON array), else 0..C-1. */
function classesOf(
  path: string,
  graph: onnx.IGraphProto,
  labels: TensorSignature | undefined,
  metadata: Record<string, string>,
  columns: number,
  zipMapClasses: readonly ClassLabel[] | undefined,
): ClassLabel[] {
  const labelNode = labels ? producerOf(graph, labels.name) : undefined;
  const fromLabels = (labelNode && classifierNodeLabels(labelNode)) ?? zipMapClasses;
  const candidates: [string, readonly ClassLabel[] | undefined][] = [
    ['the label output', fromLabels && fromLabels.length > 0 ? fromLabels : undefined],
    ['metadata "classes"', metadata['classes'] === undefined ? undefined : parseClasses(path, metadata['classes'])],
  ];
  for (const [source, classes] of candidates) {
    if (!classes) continue;
    if (classes.length !== columns) {
      throw new ModelLoadError(
        `${path} names ${classes.length} classes in ${source} but its probabilities have ${columns} columns; re-export the model.`,
      );
    }
    return [...classes];
  }
  return Array.from({ length: columns }, (_, i) => i);
}

function parseClasses(path: string, text: string): ClassLabel[] {
  const refuse = () =>
    new ModelLoadError(`${path} has metadata classes=${text}; it must be a JSON array of strings or integers, e.g. ["cat","dog"].`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw refuse();
  }
  if (!Array.isArray(parsed) || !parsed.every((label) => typeof label === 'string' || Number.isInteger(label))) throw refuse();
  return parsed as ClassLabel[];
}

function versionOf(metadata: Record<string, string>, proto: onnx.ModelProto, sha256: string): string {
  if (metadata['model_version']) return metadata['model_version'];
  const fieldVersion = Number(proto.modelVersion ?? 0);
  if (fieldVersion > 0) return `v${fieldVersion}`;
  return `sha256-${sha256.slice(0, 12)}`;
}
