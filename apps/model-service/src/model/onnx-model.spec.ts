import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildTestApp, expectedPrediction, modelDir, readModelCard } from '../testing/test-app';
import { loadOnnxModel, ModelLoadError } from './onnx-model';

describe('loading an ONNX model', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'onnx-model-spec-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('reads version, feature count and metadata from the shipped file', async () => {
    const model = await loadOnnxModel(resolve(modelDir('v1.1.0'), 'model.onnx'));
    expect(model.version).toBe('v1.1.0');
    expect(model.featureCount).toBe(1);
    expect(model.metadata['model_family']).toBeTruthy();
    expect(model.sha256).toBe(readModelCard('v1.1.0').model_sha256);
  });

  it('refuses a missing file and says which variable to set', async () => {
    const load = loadOnnxModel(join(scratch, 'nope.onnx'));
    await expect(load).rejects.toBeInstanceOf(ModelLoadError);
    await expect(load).rejects.toThrow(/model file not found: .*nope\.onnx\. Set MODEL_PATH/);
  });

  it('refuses a corrupt file', async () => {
    const corrupt = join(scratch, 'corrupt.onnx');
    writeFileSync(corrupt, 'this is not a protobuf at all \u0000\u0001\u0002');
    await expect(loadOnnxModel(corrupt)).rejects.toThrow(/corrupt\.onnx is not a valid ONNX model|onnxruntime cannot load .*corrupt\.onnx/);
  });

  it('refuses a truncated copy of a real model', async () => {
    const bytes = require('node:fs').readFileSync(resolve(modelDir('v1.0.0'), 'model.onnx')) as Buffer;
    const truncated = join(scratch, 'truncated.onnx');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(loadOnnxModel(truncated)).rejects.toBeInstanceOf(ModelLoadError);
  });
});

describe('bringing your own model: a 3-feature ONNX file without our metadata', () => {
  const card = readModelCard('fixtures/three-features');

  it('takes the feature count from the input shape and a version from the file hash', async () => {
    const model = await loadOnnxModel(resolve(modelDir('fixtures/three-features'), 'model.onnx'));
    expect(card.metadata).toEqual({});
    expect(model.featureCount).toBe(3);
    expect(model.version).toBe(`sha256-${card.model_sha256.slice(0, 12)}`);
  });

  it('is served: 3 values per row predict, 1 value per row is a 422', async () => {
    const app = await buildTestApp('fixtures/three-features');
    const rows = [
      [1, 2, 3],
      [-0.5, 0, 4.25],
    ];
    const ok = await app.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, payload: { features: rows } });
    expect(ok.statusCode).toBe(200);
    ok.json().predictions.forEach((value: number, i: number) => expect(value).toBeCloseTo(expectedPrediction(card, rows[i]), 4));
    const narrow = await app.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, payload: { features: [[1]] } });
    expect(narrow.statusCode).toBe(422);
    expect(narrow.json().detail[0].msg).toBe('expected 3 feature(s) per row');
    await app.close();
  });
});
