import { MODEL_INPUT_NAME, MODEL_OUTPUT_NAME } from '@mlbg/contract';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';

/**
 * Real ONNX models that make a real color fail in one way, with v1.0.0's signature (one float
 * feature in, one prediction per row out) and its answers where they answer: v1.0.0's weights.
 * Built here with onnx-proto (the service's own ONNX library) so a test needs no Python.
 */

/** v1.0.0's weights (models/v1.0.0/model.json). */
const WEIGHT = 4.971695423126221;
const BIAS = -1.952240228652954;

const node = (opType: string, input: string[], output: string[], attribute: onnx.IAttributeProto[] = []): onnx.INodeProto => ({
  opType,
  name: `${opType.toLowerCase()}_${output[0]}`,
  input,
  output,
  attribute,
});
const floats = (name: string, dims: number[], values: number[]): onnx.ITensorProto => ({
  name,
  dims,
  dataType: onnx.TensorProto.DataType.FLOAT,
  floatData: values,
});
const ints = (name: string, values: number[]): onnx.ITensorProto => ({
  name,
  dims: [values.length],
  dataType: onnx.TensorProto.DataType.INT64,
  int64Data: values,
});
const rows = (name: string): onnx.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: 1 }] } } },
});

function model(version: string, nodes: onnx.INodeProto[], initializers: onnx.ITensorProto[]): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 13 }],
      producerName: 'mlbg-deploy-tests',
      graph: {
        name: 'fault',
        node: [node('MatMul', [MODEL_INPUT_NAME, 'weights'], ['linear']), node('Add', ['linear', 'bias'], ['answer']), ...nodes],
        initializer: [floats('weights', [1, 1], [WEIGHT]), floats('bias', [1], [BIAS]), ...initializers],
        input: [rows(MODEL_INPUT_NAME)],
        output: [rows(MODEL_OUTPUT_NAME)],
      },
      metadataProps: [{ key: 'model_version', value: version }],
    }),
  ).finish();
}

/**
 * Answers one row right, and any request of more rows with a single value: the service refuses
 * such an answer (500), so the share of 5xx is the share of multi-row requests sent to it.
 */
export function oneRowModel(version: string): Uint8Array {
  return model(version, [node('ReduceMean', ['answer'], [MODEL_OUTPUT_NAME], [{ name: 'axes', type: 7, ints: [0] }])], []);
}

/**
 * Answers right, slowly: every request also multiplies two `size` x `size` matrices scaled by the
 * request's own input (so onnxruntime can not compute it once ahead) and adds 0 times the result.
 */
export function slowModel(version: string, size: number): Uint8Array {
  const filled = (value: number) => Array.from({ length: size * size }, () => value);
  return model(
    version,
    [
      node('ReduceSum', [MODEL_INPUT_NAME], ['inputSum'], [{ name: 'keepdims', type: 2, i: 1 }]),
      node('Mul', ['left', 'inputSum'], ['scaled']),
      node('MatMul', ['scaled', 'right'], ['product']),
      node('ReduceSum', ['product', 'allAxes'], ['productSum']),
      node('Mul', ['productSum', 'zero'], ['nothing']),
      node('Add', ['answer', 'nothing'], [MODEL_OUTPUT_NAME]),
    ],
    [
      floats('left', [size, size], filled(1e-3)),
      floats('right', [size, size], filled(1e-3)),
      ints('allAxes', [0, 1]),
      floats('zero', [1], [0]),
    ],
  );
}

/** Writes `bytes` as `<dir>/<name>.onnx`; returns its path. */
export function writeModel(dir: string, name: string, bytes: Uint8Array): string {
  const file = join(dir, `${name}.onnx`);
  writeFileSync(file, bytes);
  return file;
}
