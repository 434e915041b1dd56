import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  ClassificationPredictResponse,
  HealthResponse,
  ModelInfoResponse,
  MultiTargetPredictResponse,
  PredictResponse,
} from '@mlbg/contract';
import { buildTestApp, modelDir } from '../testing/test-app';

/** What tools/models/exporters/*.py wrote beside each model: the rows and the exporter's own outputs. */
interface Expected {
  made_by: string;
  rows: number[][];
  outputs: Record<string, unknown[]>;
}

function expectedOf(fixture: string): Expected {
  return JSON.parse(readFileSync(resolve(modelDir(`fixtures/${fixture}`), 'expected.json'), 'utf8')) as Expected;
}

/** float32 arithmetic in two runtimes: equal to a few units in the last place. */
const TOLERANCE = 1e-5;
const closeTo = (actual: number, expected: number) => Math.abs(actual - expected) <= TOLERANCE * Math.max(1, Math.abs(expected));

function expectRowsClose(actual: number[][], expected: number[][]) {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => {
    expect(row.length).toBe(expected[i].length);
    row.forEach((value, j) => {
      if (!closeTo(value, expected[i][j]))
        throw new Error(`row ${i}, column ${j}: served ${value}, the exporter computed ${expected[i][j]}`);
    });
  });
}

describe('models made by real exporters are served as the exporter computes them', () => {
  const apps: NestFastifyApplication[] = [];
  const serve = async (fixture: string) => {
    const app = await buildTestApp(`fixtures/${fixture}`);
    apps.push(app);
    const expected = expectedOf(fixture);
    const response = await app.inject({
      method: 'POST',
      url: '/predict',
      headers: { 'content-type': 'application/json' },
      payload: { features: expected.rows },
    });
    expect(response.statusCode).toBe(200);
    return { app, expected, body: response.json() as unknown };
  };
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  it('a PyTorch regression MLP (torch.onnx.export): one prediction per row', async () => {
    const { body, expected } = await serve('torch-mlp-regressor');
    const { predictions } = PredictResponse.parse(body);
    expectRowsClose(
      predictions.map((value) => [value]),
      expected.outputs['predictions'] as number[][],
    );
  });

  it('a PyTorch softmax classifier without labels or metadata: classes 0..C-1, the label is the most probable', async () => {
    const { body, expected, app } = await serve('torch-softmax-classifier');
    const answer = ClassificationPredictResponse.parse(body);
    expect(answer.classes).toEqual([0, 1, 2]);
    const probabilities = expected.outputs['probabilities'] as number[][];
    expectRowsClose(answer.probabilities, probabilities);
    expect(answer.predictions).toEqual(probabilities.map((row) => row.indexOf(Math.max(...row))));
    const model = ModelInfoResponse.parse((await app.inject({ method: 'GET', url: '/model' })).json());
    expect(model).toMatchObject({
      task: 'classification',
      name: 'model',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }],
    });
  });

  it('a PyTorch model with two regression targets: two numbers per row', async () => {
    const { body, expected } = await serve('torch-multi-target');
    expectRowsClose(MultiTargetPredictResponse.parse(body).predictions, expected.outputs['targets'] as number[][]);
  });

  it('an ONNX-ML LinearClassifier with int64 labels and a probability tensor: the label output and its classes', async () => {
    const { body, expected } = await serve('linear-classifier');
    const answer = ClassificationPredictResponse.parse(body);
    expect(answer.classes).toEqual([0, 1, 2]);
    expect(answer.predictions).toEqual(expected.outputs['output_label']);
    expectRowsClose(answer.probabilities, expected.outputs['output_probability'] as number[][]);
  });

  it.each([
    ['zipmap-classifier', ['setosa', 'versicolor', 'virginica']],
    ['tree-classifier', [10, 20, 30]],
  ])(
    '%s (ZipMap, as skl2onnx exports by default) serves the tensor that fed ZipMap, with its labels as classes',
    async (fixture, classes) => {
      const { body, expected, app } = await serve(fixture);
      const answer = ClassificationPredictResponse.parse(body);
      expect(answer.classes).toEqual(classes);
      expect(answer.predictions).toEqual(expected.outputs['output_label']);
      const maps = expected.outputs['output_probability'] as Record<string, number>[];
      expectRowsClose(
        answer.probabilities,
        maps.map((map) => classes.map((label) => map[String(label)])),
      );
      const health = HealthResponse.parse((await app.inject({ method: 'GET', url: '/health' })).json());
      expect(health.signature?.outputs).toContainEqual({ name: 'output_probability', datatype: 'FP32', shape: [-1, 3] });
    },
  );

  it('a model with three typed inputs (INT64, FP64, INT32), one column each', async () => {
    const { body, expected, app } = await serve('mixed-inputs');
    const { predictions } = PredictResponse.parse(body);
    expectRowsClose(
      predictions.map((value) => [value]),
      expected.outputs['predictions'] as number[][],
    );
    const health = HealthResponse.parse((await app.inject({ method: 'GET', url: '/health' })).json());
    expect(health.feature_count).toBe(3);
    expect(health.signature?.inputs.map((input) => `${input.name}:${input.datatype}`)).toEqual([
      'age:INT64',
      'income:FP64',
      'visits:INT32',
    ]);
  });

  it('a value that does not fit an int column is a 422 naming the row and column', async () => {
    const { app } = await serve('mixed-inputs');
    const send = (features: unknown) =>
      app.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, payload: { features } });
    const fraction = await send([
      [35, 1, 3],
      [40.5, 2, 1],
    ]);
    expect(fraction.statusCode).toBe(422);
    expect(fraction.json().detail).toEqual([
      { loc: ['body', 'features', 1, 0], msg: 'must be a whole number for an INT64 column', type: 'int_from_float' },
    ]);
    const outOfRange = await send([[1, 1, 2 ** 31]]);
    expect(outOfRange.statusCode).toBe(422);
    expect(outOfRange.json().detail[0]).toMatchObject({ loc: ['body', 'features', 0, 2], type: 'value_out_of_range' });
    expect(outOfRange.json().detail[0].msg).toMatch(/INT32/);
    // An FP64 column takes fractions, and an INT64 one every safe integer.
    expect((await send([[2 ** 53 - 1, 123456789.125, -(2 ** 31)]])).statusCode).toBe(200);
  });
});

describe('the shipped classifier example (models/classifier)', () => {
  it('answers /predict with labels, probabilities and classes, and V2 under its metadata name', async () => {
    const app = await buildTestApp('classifier');
    const rows = [
      [5.1, 3.5, 1.4, 0.2],
      [6.7, 3.1, 5.6, 2.4],
    ];
    const predict = await app.inject({
      method: 'POST',
      url: '/predict',
      headers: { 'content-type': 'application/json' },
      payload: { features: rows },
    });
    const answer = ClassificationPredictResponse.parse(predict.json());
    expect(answer).toMatchObject({
      predictions: ['setosa', 'virginica'],
      classes: ['setosa', 'versicolor', 'virginica'],
      model_version: 'v1.0.0',
    });
    answer.probabilities.forEach((row) => expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5));
    const infer = await app.inject({
      method: 'POST',
      url: '/v2/models/iris-classifier/versions/v1.0.0/infer',
      headers: { 'content-type': 'application/json' },
      payload: { inputs: [{ name: 'features', shape: [2, 4], datatype: 'FP32', data: rows }] },
    });
    expect(infer.statusCode).toBe(200);
    expect(infer.json().outputs[0]).toEqual({ name: 'label', datatype: 'BYTES', shape: [2], data: ['setosa', 'virginica'] });
    await app.close();
  });
});
