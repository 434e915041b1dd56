import { ModelMetadata } from '@mlbg/contract';
import { onnx } from 'onnx-proto';
import { TRAINING_CSV_PATH } from './dataset';
import { predictLinear } from './feature-transform';
import { CARD_FILE, MODEL_FILE, ModelCard, sha256 } from './model-card';
import { RECIPES, VARIANTS } from './models';
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

describe.each(VARIANTS.map((v) => [v.name, v] as const))("v1.0.0's variant %s", (name, variant) => {
  const v1 = load('v1.0.0');
  const copy = load(`fixtures/${name}`);

  it("has v1.0.0's signature and metadata under its own version", () => {
    expect(copy.card).toMatchObject({ feature_count: 1, input: 'features', output: 'predictions', transform: 'identity' });
    const { model_version, rmse, ...rest } = ModelMetadata.parse(copy.metadata);
    const { model_version: _v, rmse: _r, ...original } = ModelMetadata.parse(v1.metadata);
    expect(model_version).toBe(variant.version);
    expect(rest).toEqual(original);
    // An honest copy is as good as v1.0.0 on the held-out rows; the negated one far worse.
    if (variant.negateSlope) expect(rmse).toBeGreaterThan(10 * ModelMetadata.parse(v1.metadata).rmse);
    else expect(rmse).toBe(ModelMetadata.parse(v1.metadata).rmse);
  });

  it(variant.negateSlope ? 'answers with the slope negated' : 'answers exactly like v1.0.0', async () => {
    const [original, answers] = await Promise.all([predictWithOrt(v1.bytes, DEMO_ROWS), predictWithOrt(copy.bytes, DEMO_ROWS)]);
    const bias = v1.card.bias;
    DEMO_ROWS.forEach((row, i) => {
      const expected = variant.negateSlope ? bias - ((original[i] ?? 0) - bias) : (original[i] ?? 0);
      expect(Math.abs((answers[i] ?? 0) - expected)).toBeLessThan(FLOAT32_TOLERANCE * Math.max(1, Math.abs(expected)));
      if (variant.negateSlope) expect(Math.abs((answers[i] ?? 0) - (original[i] ?? 0))).toBeGreaterThan(MIN_VERSION_GAP);
      expect(row).toHaveLength(1);
    });
  });
});
