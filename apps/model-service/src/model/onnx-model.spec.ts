import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildTestApp, expectedPrediction, modelDir, readModelCard } from '../testing/test-app';
import { onnx } from 'onnx-proto';
import { loadOnnxModel, ModelLoadError } from './onnx-model';
import { serveZipMapInputs } from './zipmap';

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
    expect(model.metadata['model_family']).toBe('polynomial-2');
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
    const ok = await app.inject({
      method: 'POST',
      url: '/predict',
      headers: { 'content-type': 'application/json' },
      payload: { features: rows },
    });
    expect(ok.statusCode).toBe(200);
    ok.json().predictions.forEach((value: number, i: number) => expect(value).toBeCloseTo(expectedPrediction(card, rows[i]), 4));
    const narrow = await app.inject({
      method: 'POST',
      url: '/predict',
      headers: { 'content-type': 'application/json' },
      payload: { features: [[1]] },
    });
    expect(narrow.statusCode).toBe(422);
    expect(narrow.json().detail[0].msg).toBe('expected 3 feature(s) per row');
    await app.close();
  });
});

describe('a model the service can not serve stops it at start-up with one line: what it saw, what it supports', () => {
  // Made while the cases are collected: it.each below writes its models here.
  const scratch = mkdtempSync(join(tmpdir(), 'onnx-model-refused-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** An Identity model from `input` to `output`, written to the scratch folder. */
  function identityModel(file: string, elemType: number, dims: (number | string)[]): string {
    const value = (name: string) => ({
      name,
      type: {
        tensorType: { elemType, shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) } },
      },
    });
    const bytes = onnx.ModelProto.encode({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 13 }],
      graph: { name: 'identity', node: [{ opType: 'Identity', input: ['x'], output: ['y'] }], input: [value('x')], output: [value('y')] },
    }).finish();
    const path = join(scratch, file);
    writeFileSync(path, bytes);
    return path;
  }

  it.each([
    [
      'an image input',
      identityModel('image.onnx', onnx.TensorProto.DataType.FLOAT, ['N', 3, 8, 8]),
      /takes float32 \[N, 3, 8, 8\] as input "x"; the service serves models with one \[batch, F\] tensor/,
    ],
    [
      'a string input',
      identityModel('text.onnx', onnx.TensorProto.DataType.STRING, ['N', 1]),
      /takes string \[N, 1\] as input "x"; .*float32, float64, int64 or int32/,
    ],
    [
      'an output of strings only',
      identityModel('labels.onnx', onnx.TensorProto.DataType.INT64, ['N', 1]),
      /has y INT64 \[-1, 1\]; the service serves models with a float output/,
    ],
  ])('%s', async (_case, path, message) => {
    const load = loadOnnxModel(path);
    await expect(load).rejects.toBeInstanceOf(ModelLoadError);
    const error = (await load.catch((caught: Error) => caught)) as Error;
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });
});

describe('ZipMap at load time', () => {
  it('serves the tensor that fed ZipMap under the ZipMap output name, and reads the classes from its labels', async () => {
    const path = resolve(modelDir('fixtures/zipmap-classifier'), 'model.onnx');
    const model = await loadOnnxModel(path);
    expect(model.zipMapEdits).toEqual([{ output: 'output_probability', classes: ['setosa', 'versicolor', 'virginica'] }]);
    expect(model.outputs).toEqual([
      { name: 'output_label', datatype: 'BYTES', shape: [-1] },
      { name: 'output_probability', datatype: 'FP32', shape: [-1, 3] },
    ]);
    expect(model.answer).toEqual({
      task: 'classification',
      probabilities: 'output_probability',
      labels: 'output_label',
      classes: ['setosa', 'versicolor', 'virginica'],
    });
    // The sha256 is the file's as it is on disk, not the edited graph's.
    expect(model.sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
  });

  it('leaves a graph without ZipMap alone', () => {
    const graph = onnx.ModelProto.decode(readFileSync(resolve(modelDir('fixtures/linear-classifier'), 'model.onnx')))
      .graph as onnx.IGraphProto;
    expect(serveZipMapInputs(graph)).toEqual([]);
  });
});
