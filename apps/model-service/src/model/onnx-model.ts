import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { onnx } from 'onnx-proto';
import { InferenceSession } from 'onnxruntime-node';

/**
 * One thread per session: the demo models are a few multiply-adds, and two colors plus nginx
 * share two cores, so extra threads only add contention.
 */
const SESSION_OPTIONS: InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
};

/** An ONNX model loaded and checked for the one signature the service serves: float [batch, F] in. */
export interface LoadedModel {
  readonly path: string;
  readonly session: InferenceSession;
  readonly inputName: string;
  readonly outputName: string;
  readonly featureCount: number;
  /** From the file: metadata `model_version`, else the ONNX `model_version` field, else a content hash. */
  readonly version: string;
  readonly sha256: string;
  /** The file's `metadata_props`, as strings. */
  readonly metadata: Readonly<Record<string, string>>;
}

export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
}

/** Reads, parses and checks an ONNX file; every failure is a {@link ModelLoadError} that says what to do. */
export async function loadOnnxModel(path: string): Promise<LoadedModel> {
  const bytes = await readModelFile(path);
  const proto = decodeModel(path, bytes);
  const metadata = Object.fromEntries(
    (proto.metadataProps ?? []).flatMap((entry) => (entry.key ? [[entry.key, entry.value ?? '']] : [])),
  );
  const session = await createSession(path, bytes);
  const { inputName, featureCount } = checkInput(path, session);
  if (session.outputNames.length < 1) {
    throw new ModelLoadError(`${path} has no output; the service needs one output with one value per row.`);
  }
  if (metadata['feature_count'] !== undefined && Number(metadata['feature_count']) !== featureCount) {
    throw new ModelLoadError(
      `${path} says feature_count=${metadata['feature_count']} in its metadata but its input takes ${featureCount}; re-export the model.`,
    );
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return {
    path,
    session,
    inputName,
    outputName: session.outputNames[0],
    featureCount,
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
    throw new ModelLoadError(`${path} is not a valid ONNX model (${(error as Error).message}). Re-export it or point MODEL_PATH at another file.`);
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

function checkInput(path: string, session: InferenceSession): { inputName: string; featureCount: number } {
  const signature = `one 2-D float32 input [batch, features] with a fixed number of features`;
  if (session.inputMetadata.length !== 1) {
    throw new ModelLoadError(`${path} has ${session.inputMetadata.length} inputs; the service serves models with ${signature}.`);
  }
  const input = session.inputMetadata[0];
  if (!input.isTensor || input.type !== 'float32' || input.shape.length !== 2 || typeof input.shape[1] !== 'number' || input.shape[1] < 1) {
    const seen = input.isTensor ? `${input.type} [${input.shape.join(', ')}]` : 'a non-tensor value';
    throw new ModelLoadError(`${path} takes ${seen} as input "${input.name}"; the service serves models with ${signature}.`);
  }
  return { inputName: input.name, featureCount: input.shape[1] };
}

function versionOf(metadata: Record<string, string>, proto: onnx.ModelProto, sha256: string): string {
  if (metadata['model_version']) return metadata['model_version'];
  const fieldVersion = Number(proto.modelVersion ?? 0);
  if (fieldVersion > 0) return `v${fieldVersion}`;
  return `sha256-${sha256.slice(0, 12)}`;
}
