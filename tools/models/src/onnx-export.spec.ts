import { onnx } from 'onnx-proto';
import { predictLinear } from './feature-transform';
import { CARD_FILE, MODEL_FILE, ModelCard } from './model-card';
import { THREE_FEATURE_FIXTURE_DIR } from './artifacts';
import { buildLinearModel, LinearModelSpec } from './onnx-export';
import { predictWithOrt, readWorkspaceFile } from './testing/predict-with-ort';

const ROWS = [
  [1, 2, 3],
  [-0.5, 0, 4.25],
  [10, -3, 0.125],
];
const FLOAT32_TOLERANCE = 1e-5;

function expectClosedForm(predictions: number[], model: Parameters<typeof predictLinear>[1]): void {
  ROWS.forEach((row, i) => {
    const expected = predictLinear(row, model);
    expect(Math.abs(predictions[i] - expected)).toBeLessThan(FLOAT32_TOLERANCE * Math.max(1, Math.abs(expected)));
  });
}

describe('buildLinearModel (bring your own model)', () => {
  it('builds a 3-feature model that onnxruntime runs as the closed form', async () => {
    const spec: LinearModelSpec = { featureCount: 3, weights: [0.3, -2, 1.5], bias: -0.25 };
    const bytes = buildLinearModel(spec);
    expectClosedForm(await predictWithOrt(bytes, ROWS), { ...spec, transform: 'identity' });
  });

  it('computes the polynomial features inside the graph for any feature count', async () => {
    const spec: LinearModelSpec = {
      featureCount: 3,
      weights: [1, 2, 3, 0.5, -0.5, 0.25],
      bias: 1,
      transform: 'polynomial-2',
    };
    expectClosedForm(await predictWithOrt(buildLinearModel(spec), ROWS), { ...spec, transform: 'polynomial-2' });
  });

  it('declares input [N, F] and output [N, 1], and no metadata unless given', () => {
    const graph = onnx.ModelProto.decode(buildLinearModel({ featureCount: 3, weights: [1, 1, 1], bias: 0 }));
    const dims = (value: onnx.IValueInfoProto) => value.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue));
    expect(graph.graph?.input?.map(dims)).toEqual([['N', 3]]);
    expect(graph.graph?.output?.map(dims)).toEqual([['N', 1]]);
    expect(graph.metadataProps).toEqual([]);
  });

  it('is deterministic', () => {
    const spec: LinearModelSpec = { featureCount: 2, weights: [1, 2], bias: 3, metadata: { a: 'b' } };
    expect(Buffer.from(buildLinearModel(spec)).equals(Buffer.from(buildLinearModel(spec)))).toBe(true);
  });

  it.each<[string, LinearModelSpec]>([
    ['zero features', { featureCount: 0, weights: [], bias: 0 }],
    ['too few weights', { featureCount: 3, weights: [1, 2], bias: 0 }],
    ['polynomial weights for identity', { featureCount: 1, weights: [1, 2], bias: 0 }],
    ['a NaN weight', { featureCount: 1, weights: [Number.NaN], bias: 0 }],
    ['an infinite bias', { featureCount: 1, weights: [1], bias: Number.POSITIVE_INFINITY }],
  ])('refuses %s', (_name, spec) => {
    expect(() => buildLinearModel(spec)).toThrow();
  });
});

describe('shipped fixture models/fixtures/three-features', () => {
  const bytes = readWorkspaceFile(`${THREE_FEATURE_FIXTURE_DIR}/${MODEL_FILE}`);
  const cardJson = readWorkspaceFile(`${THREE_FEATURE_FIXTURE_DIR}/${CARD_FILE}`).toString('utf8');
  const card = ModelCard.parse(JSON.parse(cardJson));

  it('has no metadata_props at all, like a file from another exporter', () => {
    expect(onnx.ModelProto.decode(bytes).metadataProps).toEqual([]);
    expect(card.metadata).toEqual({});
    expect(card.feature_count).toBe(3);
  });

  it('predicts what its card says', async () => {
    expectClosedForm(await predictWithOrt(bytes, ROWS), card);
  });
});
