import { MODEL_INPUT_NAME, MODEL_OUTPUT_NAME } from '@mlbg/contract';
import { onnx } from 'onnx-proto';
import { FeatureTransform, FEATURE_TRANSFORMS, transformedWidth } from './feature-transform';

// ONNX IR 8 with opset 13 is read by every onnxruntime since 1.10.
const IR_VERSION = 8;
const OPSET_VERSION = 13;
/** `producer_name` written into every model built here. */
export const PRODUCER_NAME = 'mlbg-models';
const BATCH_DIM = 'N';
const OUTPUT_WIDTH = 1;

/** What {@link buildLinearModel} needs: y = bias + weights · transform(features). */
export interface LinearModelSpec {
  /** F, the fixed second dimension of the `features` input. */
  featureCount: number;
  /** One weight per transformed feature: F for `identity`, 2F for `polynomial-2`. */
  weights: readonly number[];
  bias: number;
  /** Computed inside the graph; defaults to `identity`. */
  transform?: FeatureTransform;
  /** String key/values for `metadata_props`, written in the given order. Omit for none at all. */
  metadata?: Readonly<Record<string, string>>;
}

/**
 * Builds a regression model as ONNX bytes: input `features` float32 [N, F], output
 * `predictions` float32 [N, 1]. Weights and bias are stored as float32, so the model computes
 * with `Math.fround` of the given numbers. The same spec always gives the same bytes.
 */
export function buildLinearModel(spec: LinearModelSpec): Uint8Array {
  const transform = spec.transform ?? 'identity';
  validate(spec, transform);
  const width = transformedWidth(spec.featureCount, transform);
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    producerName: PRODUCER_NAME,
    graph: {
      name: transform === 'identity' ? 'linear_regression' : 'polynomial_regression',
      node: [
        ...transformNodes(transform),
        node('MatMul', [transformedName(transform), 'weights'], ['linear']),
        node('Add', ['linear', 'bias'], [MODEL_OUTPUT_NAME]),
      ],
      initializer: [floatTensor('weights', [width, OUTPUT_WIDTH], spec.weights), floatTensor('bias', [OUTPUT_WIDTH], [spec.bias])],
      input: [floatValue(MODEL_INPUT_NAME, spec.featureCount)],
      output: [floatValue(MODEL_OUTPUT_NAME, OUTPUT_WIDTH)],
    },
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}

function validate(spec: LinearModelSpec, transform: FeatureTransform): void {
  if (!Number.isInteger(spec.featureCount) || spec.featureCount < 1) {
    throw new Error(`featureCount must be a positive integer, got ${spec.featureCount}`);
  }
  if (!FEATURE_TRANSFORMS.includes(transform)) throw new Error(`unknown transform "${transform}"`);
  const width = transformedWidth(spec.featureCount, transform);
  if (spec.weights.length !== width) {
    const counts = `${spec.featureCount} features needs ${width} weights, got ${spec.weights.length}`;
    throw new Error(`${transform} over ${counts}`);
  }
  if (![...spec.weights, spec.bias].every(Number.isFinite)) throw new Error('weights and bias must be finite numbers');
}

// The tensor MatMul reads: the raw input, or the [N, 2F] polynomial features.
function transformedName(transform: FeatureTransform): string {
  return transform === 'identity' ? MODEL_INPUT_NAME : 'transformed';
}

// The nodes that compute the transform inside the graph (none for identity).
function transformNodes(transform: FeatureTransform): onnx.INodeProto[] {
  if (transform === 'identity') return [];
  return [
    node('Mul', [MODEL_INPUT_NAME, MODEL_INPUT_NAME], ['squares']),
    node('Concat', [MODEL_INPUT_NAME, 'squares'], ['transformed'], [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }]),
  ];
}

function node(opType: string, input: string[], output: string[], attribute: onnx.IAttributeProto[] = []): onnx.INodeProto {
  return { opType, name: `${opType.toLowerCase()}_${output[0]}`, input, output, attribute };
}

function floatTensor(name: string, dims: number[], values: readonly number[]): onnx.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: [...values] };
}

// A float32 tensor value of shape [N, width] with a symbolic batch dimension.
function floatValue(name: string, width: number): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: BATCH_DIM }, { dimValue: width }] },
      },
    },
  };
}
