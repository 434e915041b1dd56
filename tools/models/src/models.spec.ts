import { ModelMetadata } from '@mlbg/contract';
import { onnx } from 'onnx-proto';
import { TRAINING_CSV_PATH } from './dataset';
import { predictLinear } from './feature-transform';
import { CARD_FILE, MODEL_FILE, ModelCard, sha256 } from './model-card';
import { RECIPES } from './models';
import { PRODUCER_NAME } from './onnx-export';
import { predictWithOrt, readWorkspaceFile } from './testing/predict-with-ort';

const DEMO_ROWS = [[1], [2], [3]];
// Relative: ORT computes in float32, the closed form in float64 with the same float32 weights.
const FLOAT32_TOLERANCE = 1e-5;
// The versions must be told apart by their answers, not by rounding noise.
const MIN_VERSION_GAP = 0.25;

function load(version: string) {
  const bytes = readWorkspaceFile(`models/${version}/${MODEL_FILE}`);
  const card = ModelCard.parse(JSON.parse(readWorkspaceFile(`models/${version}/${CARD_FILE}`).toString('utf8')));
  const proto = onnx.ModelProto.decode(bytes);
  const metadata = Object.fromEntries(proto.metadataProps.map((p) => [p.key ?? '', p.value ?? '']));
  return { bytes, card, proto, metadata };
}

describe.each(RECIPES.map((r) => [r.version, r] as const))('shipped model %s', (version, recipe) => {
  const { bytes, card, proto, metadata } = load(version);

  it('is ONNX IR 8, opset 13, from our producer', () => {
    expect(Number(proto.irVersion)).toBe(8);
    expect(proto.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 13]]);
    expect(proto.producerName).toBe(PRODUCER_NAME);
  });

  it('carries metadata_props that parse with the contract', () => {
    const parsed = ModelMetadata.parse(metadata);
    expect(parsed).toMatchObject({ model_version: version, feature_count: 1, model_family: recipe.family });
    expect(parsed.training_data_sha256).toBe(sha256(readWorkspaceFile(TRAINING_CSV_PATH)));
    expect(Object.keys(metadata).sort()).toEqual(Object.keys(ModelMetadata.shape).sort());
  });

  it('has a card that matches the file', () => {
    expect(card.model_sha256).toBe(sha256(bytes));
    expect(card.metadata).toEqual(metadata);
    expect(card.transform).toBe(recipe.transform);
  });

  it('predicts in onnxruntime what the card says in closed form', async () => {
    const predictions = await predictWithOrt(bytes, DEMO_ROWS);
    DEMO_ROWS.forEach((row, i) => {
      const expected = predictLinear(row, card);
      expect(Math.abs(predictions[i] - expected)).toBeLessThan(FLOAT32_TOLERANCE * Math.max(1, Math.abs(expected)));
    });
  });
});

describe('v1.1.0 against v1.0.0', () => {
  const v1 = load('v1.0.0');
  const v11 = load('v1.1.0');

  it('answers [[1],[2],[3]] differently by a clear margin', async () => {
    const [a, b] = await Promise.all([predictWithOrt(v1.bytes, DEMO_ROWS), predictWithOrt(v11.bytes, DEMO_ROWS)]);
    a.forEach((p, i) => expect(Math.abs(p - b[i])).toBeGreaterThan(MIN_VERSION_GAP));
  });

  it('was trained on more rows and has a lower held-out rmse', () => {
    const [m1, m11] = [ModelMetadata.parse(v1.metadata), ModelMetadata.parse(v11.metadata)];
    expect(m11.training_rows).toBeGreaterThan(m1.training_rows);
    expect(m11.rmse).toBeLessThan(m1.rmse);
  });
});
