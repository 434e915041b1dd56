import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  V2ErrorBody,
  V2InferResponse,
  V2ModelMetadataResponse,
  V2ModelReadyResponse,
  V2ServerLiveResponse,
  V2ServerMetadataResponse,
  V2ServerReadyResponse,
} from '@mlbg/contract';
import fc from 'fast-check';
import { ReadinessTracker } from '../lifecycle/readiness';
import { buildTestApp, expectedPrediction, modelDir, readModelCard } from '../testing/test-app';

const json = { 'content-type': 'application/json' };
const expectedOf = (fixture: string) =>
  JSON.parse(readFileSync(resolve(modelDir(`fixtures/${fixture}`), 'expected.json'), 'utf8')) as {
    rows: number[][];
    outputs: Record<string, unknown[]>;
  };

describe('Open Inference Protocol (V2) REST', () => {
  let regression: NestFastifyApplication;
  let classifier: NestFastifyApplication;
  let mixed: NestFastifyApplication;

  beforeAll(async () => {
    regression = await buildTestApp('v1.0.0', { MAX_BATCH_ROWS: '20' });
    classifier = await buildTestApp('fixtures/zipmap-classifier');
    mixed = await buildTestApp('fixtures/mixed-inputs');
  });
  afterAll(async () => {
    for (const app of [regression, classifier, mixed]) await app.close();
  });

  const infer = (app: NestFastifyApplication, body: unknown, path = '/v2/models/model/infer') =>
    app.inject({ method: 'POST', url: path, headers: json, payload: typeof body === 'string' ? body : JSON.stringify(body) });

  describe('health and metadata', () => {
    it('server live, ready and metadata', async () => {
      expect(V2ServerLiveResponse.parse((await regression.inject({ method: 'GET', url: '/v2/health/live' })).json())).toEqual({
        live: true,
      });
      const ready = await regression.inject({ method: 'GET', url: '/v2/health/ready' });
      expect(ready.statusCode).toBe(200);
      expect(V2ServerReadyResponse.parse(ready.json())).toEqual({ ready: true });
      expect(V2ServerMetadataResponse.parse((await regression.inject({ method: 'GET', url: '/v2' })).json()).extensions).toEqual([]);
    });

    it('model metadata, with and without the version in the path, names the file and the version the service reports', async () => {
      for (const url of ['/v2/models/model', '/v2/models/model/versions/v1.0.0']) {
        const response = await regression.inject({ method: 'GET', url });
        expect(response.statusCode).toBe(200);
        expect(V2ModelMetadataResponse.parse(response.json())).toEqual({
          name: 'model',
          versions: ['v1.0.0'],
          platform: 'onnxruntime_onnx',
          inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 1] }],
          outputs: [{ name: 'predictions', datatype: 'FP32', shape: [-1, 1] }],
        });
      }
    });

    it('a classifier with ZipMap lists the tensor it serves in its place', async () => {
      const { outputs } = (await classifier.inject({ method: 'GET', url: '/v2/models/model' })).json();
      expect(outputs).toEqual([
        { name: 'output_label', datatype: 'BYTES', shape: [-1] },
        { name: 'output_probability', datatype: 'FP32', shape: [-1, 3] },
      ]);
    });

    it('model ready, and 503 for both readiness routes while draining', async () => {
      const response = await regression.inject({ method: 'GET', url: '/v2/models/model/versions/v1.0.0/ready' });
      expect(V2ModelReadyResponse.parse(response.json())).toEqual({ name: 'model', ready: true });
      const draining = await buildTestApp('v1.0.0');
      draining.get(ReadinessTracker).markDraining();
      expect((await draining.inject({ method: 'GET', url: '/v2/health/ready' })).statusCode).toBe(503);
      const modelReady = await draining.inject({ method: 'GET', url: '/v2/models/model/ready' });
      expect(modelReady.statusCode).toBe(503);
      expect(modelReady.json()).toEqual({ name: 'model', ready: false });
      expect((await draining.inject({ method: 'GET', url: '/v2/health/live' })).statusCode).toBe(200);
      await draining.close();
    });
  });

  describe('inference', () => {
    it("answers the protocol's example shape: id, model name and version, typed output tensors", async () => {
      const response = await infer(regression, {
        id: '42',
        inputs: [{ name: 'features', shape: [3, 1], datatype: 'FP32', data: [1, 2, 3] }],
      });
      expect(response.statusCode).toBe(200);
      const body = V2InferResponse.parse(response.json());
      expect(body).toMatchObject({
        model_name: 'model',
        model_version: 'v1.0.0',
        id: '42',
        outputs: [{ name: 'predictions', datatype: 'FP32', shape: [3, 1] }],
      });
      const card = readModelCard('v1.0.0');
      body.outputs[0].data.forEach((value, i) => expect(value).toBeCloseTo(expectedPrediction(card, [i + 1]), 4));
      expect(response.headers['x-model-version']).toBe('v1.0.0');
    });

    it('takes nested data as well as flat, and the versioned path', async () => {
      const response = await infer(
        regression,
        { inputs: [{ name: 'features', shape: [2, 1], datatype: 'FP32', data: [[1], [2]] }] },
        '/v2/models/model/versions/v1.0.0/infer',
      );
      expect(response.statusCode).toBe(200);
      expect(response.json().outputs[0].data).toHaveLength(2);
    });

    it('a classifier returns string labels as BYTES and the probabilities the exporter computed; outputs can be chosen', async () => {
      const expected = expectedOf('zipmap-classifier');
      const rows = expected.rows;
      const all = await infer(classifier, { inputs: [{ name: 'features', shape: [rows.length, 4], datatype: 'FP32', data: rows.flat() }] });
      expect(all.statusCode).toBe(200);
      const [labels, probabilities] = V2InferResponse.parse(all.json()).outputs;
      expect(labels).toEqual({ name: 'output_label', datatype: 'BYTES', shape: [rows.length], data: expected.outputs['output_label'] });
      expect(probabilities).toMatchObject({ name: 'output_probability', datatype: 'FP32', shape: [rows.length, 3] });
      const maps = expected.outputs['output_probability'] as Record<string, number>[];
      maps
        .flatMap((map) => ['setosa', 'versicolor', 'virginica'].map((label) => map[label]))
        .forEach((value, i) => expect(probabilities.data[i]).toBeCloseTo(value, 5));
      const chosen = await infer(classifier, {
        inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: rows[0] }],
        outputs: [{ name: 'output_label' }],
      });
      expect(chosen.json().outputs.map((output: { name: string }) => output.name)).toEqual(['output_label']);
    });

    it('several named inputs, one tensor per column, of their own datatypes', async () => {
      const expected = expectedOf('mixed-inputs');
      const column = (j: number) => expected.rows.map((row) => row[j]);
      const rows = expected.rows.length;
      const response = await infer(mixed, {
        inputs: [
          { name: 'visits', shape: [rows, 1], datatype: 'INT32', data: column(2) },
          { name: 'age', shape: [rows, 1], datatype: 'INT64', data: column(0) },
          { name: 'income', shape: [rows, 1], datatype: 'FP64', data: column(1) },
        ],
      });
      expect(response.statusCode).toBe(200);
      const served = response.json().outputs[0].data as number[];
      (expected.outputs['predictions'] as number[][]).forEach(([value], i) =>
        expect(Math.abs(served[i] - value)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(value))),
      );
    });
  });

  describe('bad requests get a 4xx that names the tensor, never a 5xx', () => {
    const features = (override: Record<string, unknown>) => ({
      inputs: [{ name: 'features', shape: [2, 1], datatype: 'FP32', data: [1, 2], ...override }],
    });

    it.each([
      ['an unknown model', '/v2/models/other/infer', features({}), 404, /model 'other' is not served here; this service serves 'model'/],
      ['an unknown version', '/v2/models/model/versions/v9.9.9/infer', features({}), 404, /no version 'v9\.9\.9'.*serves version v1\.0\.0/],
      ['a wrong datatype', undefined, features({ datatype: 'FP64' }), 400, /input 'features' has datatype FP64; the model takes FP32/],
      [
        'a shape that does not match the data',
        undefined,
        features({ shape: [3, 1] }),
        400,
        /input 'features' has 2 values but its shape \[3, 1\] holds 3/,
      ],
      [
        'a shape that does not match the model',
        undefined,
        features({ shape: [1, 2] }),
        400,
        /input 'features' has shape \[1, 2\]; the model takes \[-1, 1\]/,
      ],
      ['no rows', undefined, features({ shape: [0, 1], data: [] }), 400, /input 'features' has shape \[0, 1\]: no rows/],
      [
        'a missing input',
        undefined,
        { inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [1] }] },
        400,
        /input 'x' is not an input of this model; it takes 'features'/,
      ],
      ['no inputs at all', undefined, { inputs: [] }, 400, /"inputs"/],
      ['a string element', undefined, features({ data: [1, 'two'] }), 400, /input 'features' element 1 is a string; FP32 takes numbers/],
      [
        'a number too large for FP32',
        undefined,
        features({ data: [1, 1e39] }),
        400,
        /input 'features' element 1 \(1e\+39\) must fit in a float32/,
      ],
      [
        'an input given twice',
        undefined,
        { inputs: [features({}).inputs[0], features({}).inputs[0]] },
        400,
        /input 'features' is given twice/,
      ],
      [
        'an unknown output',
        undefined,
        { ...features({}), outputs: [{ name: 'nope' }] },
        400,
        /output 'nope' is not an output of this model; it gives 'predictions'/,
      ],
      ['an input without a name', undefined, { inputs: [{ shape: [1, 1], datatype: 'FP32', data: [1] }] }, 400, /input 0: "name"/],
      ['a shape that is not a list', undefined, features({ shape: 'two' }), 400, /input 'features': "shape"/],
      ['too many rows', undefined, features({ shape: [21, 1], data: Array(21).fill(1) }), 413, /21 rows.*at most 20/],
      ['malformed JSON', undefined, '{"inputs": [', 400, /not valid JSON.*inference request/],
    ])('%s', async (_case, path, body, status, message) => {
      const response = await infer(regression, body, path);
      expect(response.statusCode).toBe(status);
      expect(V2ErrorBody.parse(response.json()).error).toMatch(message);
    });

    it('an int column refuses a fraction, naming the input and element', async () => {
      const response = await infer(mixed, {
        inputs: [
          { name: 'age', shape: [1, 1], datatype: 'INT64', data: [35.5] },
          { name: 'income', shape: [1, 1], datatype: 'FP64', data: [1] },
          { name: 'visits', shape: [1, 1], datatype: 'INT32', data: [1] },
        ],
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toBe("input 'age' element 0 (35.5) must be a whole number for an INT64 column.");
    });

    it('data nested deeper than its shape is a 400 naming the input, also 200,000 levels deep (never a 500)', async () => {
      const deep = `{"inputs":[{"name":"features","shape":[1,1],"datatype":"FP32","data":${'['.repeat(200_000)}1${']'.repeat(200_000)}}]}`;
      const response = await infer(regression, deep);
      expect(response.statusCode).toBe(400);
      expect(V2ErrorBody.parse(response.json()).error).toBe(
        "input 'features' has data nested deeper than its shape [1, 1] (2 levels at most); send it flat or nested as the shape.",
      );
      const shallow = await infer(regression, { inputs: [{ name: 'features', shape: [1, 1], datatype: 'FP32', data: [[[1]]] }] });
      expect(shallow.statusCode).toBe(400);
      // As deep as the shape: fine.
      expect((await infer(regression, { inputs: [{ name: 'features', shape: [1, 1], datatype: 'FP32', data: [[1]] }] })).statusCode).toBe(
        200,
      );
    });

    it('inputs with different batch sizes, and a missing one, are refused by name', async () => {
      const column = (name: string, datatype: string, rows: number) => ({ name, shape: [rows, 1], datatype, data: Array(rows).fill(1) });
      const uneven = await infer(mixed, { inputs: [column('age', 'INT64', 2), column('income', 'FP64', 3), column('visits', 'INT32', 2)] });
      expect(uneven.json().error).toBe("input 'income' has 3 rows, input 'age' has 2; every input needs the same number.");
      const missing = await infer(mixed, { inputs: [column('age', 'INT64', 1), column('income', 'FP64', 1)] });
      expect(missing.statusCode).toBe(400);
      expect(missing.json().error).toBe("input 'visits' is missing; the model takes 'age', 'income', 'visits'.");
    });

    it('an unknown V2 route is a 404 in the V2 error shape', async () => {
      const response = await regression.inject({ method: 'GET', url: '/v2/nope' });
      expect(response.statusCode).toBe(404);
      expect(V2ErrorBody.parse(response.json()).error).toMatch(/no V2 route GET \/v2\/nope/);
    });

    it('a body that is not JSON is a 415 in the V2 error shape', async () => {
      const response = await regression.inject({
        method: 'POST',
        url: '/v2/models/model/infer',
        headers: { 'content-type': 'text/plain' },
        payload: 'x',
      });
      expect(response.statusCode).toBe(415);
      expect(V2ErrorBody.parse(response.json()).error).toMatch(/Content-Type: application\/json/);
    });
  });

  it('never answers a 5xx to arbitrary inference bodies, and an error body to every refusal (property test)', async () => {
    const value = fc.oneof(fc.double(), fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.double({ min: 1e30, max: 1e300 }));
    const tensor = fc.record(
      {
        name: fc.oneof(fc.constant('features'), fc.string()),
        shape: fc.oneof(fc.array(fc.nat({ max: 4 }), { maxLength: 3 }), fc.jsonValue()),
        datatype: fc.oneof(fc.constantFrom('FP32', 'FP64', 'INT64', 'BYTES'), fc.string()),
        data: fc.oneof(fc.array(value, { maxLength: 6 }), fc.array(fc.array(value, { maxLength: 2 }), { maxLength: 3 }), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      fc.record(
        {
          inputs: fc.array(tensor, { maxLength: 2 }),
          outputs: fc.option(fc.array(fc.record({ name: fc.constantFrom('predictions', 'x') }), { maxLength: 2 }), { nil: undefined }),
        },
        { requiredKeys: ['inputs'] },
      ),
      fc.jsonValue(),
    );
    await fc.assert(
      fc.asyncProperty(body, async (candidate) => {
        const response = await infer(regression, JSON.stringify(candidate));
        expect(response.statusCode).toBeGreaterThanOrEqual(200);
        expect(response.statusCode).toBeLessThan(500);
        if (response.statusCode !== 200) expect(typeof V2ErrorBody.parse(response.json()).error).toBe('string');
        else expect(V2InferResponse.parse(response.json()).outputs.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
    expect((await regression.inject({ method: 'GET', url: '/v2/health/ready' })).statusCode).toBe(200);
  });
});

describe('the OpenAPI document of the served model', () => {
  it('describes /model and the V2 routes under the model name, and the classifier answer of /predict', async () => {
    const app = await buildTestApp('fixtures/zipmap-classifier');
    const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/predict', '/model', '/v2/health/ready', '/v2/models/model', '/v2/models/model/infer']),
    );
    const example = document.paths['/v2/models/model/infer'].post.requestBody.content['application/json'].example;
    // The document's own example is a request the service serves.
    const response = await app.inject({
      method: 'POST',
      url: '/v2/models/model/infer',
      headers: { 'content-type': 'application/json' },
      payload: example,
    });
    expect(response.statusCode).toBe(200);
    expect(document.paths['/predict'].post.responses['200'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/ClassificationPredictResponse',
    );
    await app.close();
  });
});
