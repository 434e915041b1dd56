import type { ClassLabel } from '@mlbg/contract';
import { onnx } from 'onnx-proto';

/** What {@link serveZipMapInputs} changed: for each edited output, the classes of its columns (ZipMap's keys). */
export interface ZipMapEdit {
  readonly output: string;
  readonly classes: readonly ClassLabel[];
}

const ML_DOMAIN = 'ai.onnx.ml';

/**
 * onnxruntime-node can not return a ZipMap's output (a sequence of maps; "Non tensor type is temporarily
 * not supported"), and scikit-learn classifiers exported the usual way end in one. This edits the graph
 * in place so the same output name carries the tensor that fed ZipMap instead: each ZipMap node becomes
 * an Identity, and its graph output's type becomes float `[N, C]`, whose column j is the probability of
 * ZipMap's j-th class label. Returns what it changed (nothing for a graph without ZipMap).
 */
export function serveZipMapInputs(graph: onnx.IGraphProto): ZipMapEdit[] {
  const edits: ZipMapEdit[] = [];
  for (const node of graph.node ?? []) {
    if (node.opType !== 'ZipMap' || (node.domain ?? '') !== ML_DOMAIN) continue;
    const outputName = node.output?.[0];
    const graphOutput = graph.output?.find((output) => output.name === outputName);
    if (!outputName || !graphOutput) continue;
    const classes = classifierNodeLabels(node) ?? [];
    node.opType = 'Identity';
    node.domain = '';
    node.attribute = [];
    graphOutput.type = {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: 'N' }, { dimValue: classes.length }] },
      },
    };
    edits.push({ output: outputName, classes });
  }
  return edits;
}

/**
 * The class labels an ONNX-ML classifier node (LinearClassifier, TreeEnsembleClassifier, SVMClassifier, ...)
 * writes to its label output, or undefined for any other node.
 */
export function classifierNodeLabels(node: onnx.INodeProto): ClassLabel[] | undefined {
  if ((node.domain ?? '') !== ML_DOMAIN) return undefined;
  for (const attribute of node.attribute ?? []) {
    if (attribute.name === 'classlabels_strings') return (attribute.strings ?? []).map((bytes) => Buffer.from(bytes).toString('utf8'));
    if (attribute.name === 'classlabels_ints' || attribute.name === 'classlabels_int64s') return (attribute.ints ?? []).map(longToNumber);
  }
  return undefined;
}

/** protobufjs decodes int64 as a Long object when long.js is installed, else as a number. */
function longToNumber(value: number | { toString(): string }): number {
  return typeof value === 'number' ? value : Number(value.toString());
}
