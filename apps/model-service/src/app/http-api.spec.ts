import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ErrorBody, HealthResponse, PredictResponse } from '@mlbg/contract';
import { buildTestApp, expectedPrediction, LogCapture, readModelCard } from '../testing/test-app';
import { ReadinessTracker } from '../lifecycle/readiness';

const FLOAT32_TOLERANCE = 1e-5;
const json = { 'content-type': 'application/json' };

describe('HTTP API (real Fastify stack, real onnxruntime)', () => {
  let blue: NestFastifyApplication;
  let green: NestFastifyApplication;
  const blueLogs = new LogCapture();

  beforeAll(async () => {
    blue = await buildTestApp('v1.0.0', { COLOR: 'blue', MAX_BATCH_ROWS: '50', BODY_LIMIT: '4096' }, blueLogs);
    green = await buildTestApp('v1.1.0', { COLOR: 'green' });
  });
  afterAll(async () => {
    await blue.close();
    await green.close();
  });

  const predict = (app: NestFastifyApplication, payload: string, headers: Record<string, string> = json) =>
    app.inject({ method: 'POST', url: '/predict', headers, payload });

  describe('GET /health', () => {
    it('answers the original shape with the version read from the model file', async () => {
      const response = await blue.inject({ method: 'GET', url: '/health' });
      expect(response.statusCode).toBe(200);
      const body = HealthResponse.parse(response.json());
      expect(body).toMatchObject({ status: 'ok', version: 'v1.0.0', color: 'blue', feature_count: 1 });
      expect(body.model_sha256).toBe(readModelCard('v1.0.0').model_sha256);
      expect(body.details?.['model']?.status).toBe('up');
    });

    it('names green and v1.1.0 on the green color', async () => {
      const response = await green.inject({ method: 'GET', url: '/health' });
      expect(response.json()).toMatchObject({ status: 'ok', version: 'v1.1.0', color: 'green' });
      expect(response.headers['x-color']).toBe('green');
      expect(response.headers['x-model-version']).toBe('v1.1.0');
    });

    it('is 503 with a non-ok status while draining, and liveness stays 200', async () => {
      const app = await buildTestApp('v1.0.0');
      app.get(ReadinessTracker).markDraining();
      const response = await app.inject({ method: 'GET', url: '/health' });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ status: 'draining', version: 'v1.0.0' });
      expect(response.json().details.model.status).toBe('down');
      const live = await app.inject({ method: 'GET', url: '/health/live' });
      expect(live.statusCode).toBe(200);
      expect(live.json()).toEqual({ status: 'ok' });
      await app.close();
    });

    it('is 503 "starting" before the warm-up has passed', async () => {
      const app = await buildTestApp('v1.0.0');
      (app.get(ReadinessTracker) as unknown as { current: unknown }).current = { state: 'starting' };
      const response = await app.inject({ method: 'GET', url: '/health' });
      expect(response.statusCode).toBe(503);
      expect(response.json().status).toBe('starting');
      await app.close();
    });
  });

  describe('POST /predict', () => {
    it('answers the original example with one prediction per row, equal to the model math', async () => {
      const response = await predict(blue, '{"features": [[1], [2], [3]]}');
      expect(response.statusCode).toBe(200);
      const body = PredictResponse.parse(response.json());
      expect(body.model_version).toBe('v1.0.0');
      const card = readModelCard('v1.0.0');
      expect(body.predictions).toHaveLength(3);
      body.predictions.forEach((value, i) => expect(value).toBeCloseTo(expectedPrediction(card, [i + 1]), 4));
      expect(response.headers['x-model-version']).toBe('v1.0.0');
      expect(response.headers['x-color']).toBe('blue');
    });

    it('serves v1.1.0 on green, whose predictions differ measurably from v1.0.0', async () => {
      const payload = '{"features": [[1], [2], [3]]}';
      const greenBody = (await predict(green, payload)).json();
      const blueBody = (await predict(blue, payload)).json();
      expect(greenBody.model_version).toBe('v1.1.0');
      const card = readModelCard('v1.1.0');
      greenBody.predictions.forEach((value: number, i: number) =>
        expect(Math.abs(value - expectedPrediction(card, [i + 1]))).toBeLessThan(FLOAT32_TOLERANCE * 100),
      );
      const largestGap = Math.max(...greenBody.predictions.map((g: number, i: number) => Math.abs(g - blueBody.predictions[i])));
      expect(largestGap).toBeGreaterThan(0.1);
    });

    it('keeps rows in order in a large batch', async () => {
      const rows = Array.from({ length: 2000 }, (_, i) => [i / 10 - 100]);
      const response = await predict(green, JSON.stringify({ features: rows }));
      const card = readModelCard('v1.1.0');
      const { predictions } = response.json();
      expect(predictions).toHaveLength(rows.length);
      rows.forEach((row, i) => expect(Math.abs(predictions[i] - expectedPrediction(card, row))).toBeLessThan(0.05));
    });

    it('prints float32 results as their shortest decimal', async () => {
      const { predictions } = (await predict(blue, '{"features": [[0]]}')).json();
      expect(
        String(predictions[0])
          .replace(/^-?0?\.?/, '')
          .replace('.', '').length,
      ).toBeLessThanOrEqual(9);
      expect(Math.fround(predictions[0])).toBe(Math.fround(readModelCard('v1.0.0').bias));
    });

    it('accepts a charset in the content type', async () => {
      const response = await predict(blue, '{"features": [[1]]}', { 'content-type': 'application/json; charset=utf-8' });
      expect(response.statusCode).toBe(200);
    });
  });

  describe('bad input never reaches the model and never yields a 5xx', () => {
    const detailOf = (payload: string) =>
      predict(blue, payload).then((response) => ({ status: response.statusCode, body: ErrorBody.parse(response.json()) }));

    it.each([
      ['a broken object', '{"features": [[1]'],
      ['a trailing comma', '{"features": [[1],]}'],
      ['a bare word', 'hello'],
    ])('malformed JSON (%s) is 400', async (_case, payload) => {
      const { status, body } = await detailOf(payload);
      expect(status).toBe(400);
      expect(body.code).toBe('MALFORMED_JSON');
      expect(body.detail).toMatch(/not valid JSON/);
    });

    it('an empty JSON body is 400', async () => {
      const { status, body } = await detailOf('');
      expect(status).toBe(400);
      expect(body.code).toBe('MALFORMED_JSON');
    });

    it.each([
      ['features missing', '{}', ['body', 'features'], 'missing'],
      ['features a string', '{"features": "1,2,3"}', ['body', 'features'], 'list_type'],
      ['features null', '{"features": null}', ['body', 'features'], 'list_type'],
      ['a row that is a number', '{"features": [1, 2]}', ['body', 'features', 0], 'list_type'],
      ['empty batch', '{"features": []}', ['body', 'features'], 'too_short'],
      ['empty row', '{"features": [[]]}', ['body', 'features', 0], 'too_short'],
      ['ragged rows', '{"features": [[1], [2, 3]]}', ['body', 'features', 1], 'too_long'],
      ['wrong feature count', '{"features": [[1, 2]]}', ['body', 'features', 0], 'too_long'],
      ['a string value', '{"features": [["1"]]}', ['body', 'features', 0, 0], 'float_type'],
      ['a null value', '{"features": [[null]]}', ['body', 'features', 0, 0], 'float_type'],
      ['a boolean value', '{"features": [[true]]}', ['body', 'features', 0, 0], 'float_type'],
      ['nesting', '{"features": [[[1]]]}', ['body', 'features', 0, 0], 'float_type'],
      ['an object value', '{"features": [[{"x": 1}]]}', ['body', 'features', 0, 0], 'float_type'],
      ['Infinity (1e999)', '{"features": [[1e999]]}', ['body', 'features', 0, 0], 'finite_number'],
      ['-Infinity', '{"features": [[-1e999]]}', ['body', 'features', 0, 0], 'finite_number'],
      ['a number too large for float32', '{"features": [[1e300]]}', ['body', 'features', 0, 0], 'less_than_equal'],
      ['a number too small for float32', '{"features": [[-3.5e38]]}', ['body', 'features', 0, 0], 'greater_than_equal'],
      ['a JSON array body', '[[1]]', ['body'], 'model_attributes_type'],
      ['a JSON null body', 'null', ['body'], 'model_attributes_type'],
      ['a JSON string body', '"features"', ['body'], 'model_attributes_type'],
    ])('%s is 422 naming %j', async (_case, payload, loc, type) => {
      const { status, body } = await detailOf(payload);
      expect(status).toBe(422);
      expect(body.code).toBe('VALIDATION_FAILED');
      expect(Array.isArray(body.detail)).toBe(true);
      expect(body.detail).toEqual(expect.arrayContaining([expect.objectContaining({ loc, type })]));
    });

    it('tells the expected feature count when a row is wrong', async () => {
      const { body } = await detailOf('{"features": [[1, 2, 3]]}');
      expect((body.detail as { msg: string }[])[0].msg).toBe('expected 1 feature(s) per row');
    });

    it('more rows than MAX_BATCH_ROWS is 413 and says the limit', async () => {
      const rows = Array.from({ length: 51 }, () => [1]);
      const { status, body } = await detailOf(JSON.stringify({ features: rows }));
      expect(status).toBe(413);
      expect(body.code).toBe('BATCH_TOO_LARGE');
      expect(body.detail).toContain('at most 50');
    });

    it('a body over BODY_LIMIT is 413', async () => {
      const payload = JSON.stringify({ features: [[1]], padding: 'x'.repeat(5000) });
      const { status, body } = await detailOf(payload);
      expect(status).toBe(413);
      expect(body.code).toBe('BODY_TOO_LARGE');
    });

    it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])('content type %s is 415', async (type) => {
      const response = await predict(blue, '{"features": [[1]]}', { 'content-type': type });
      expect(response.statusCode).toBe(415);
      expect(ErrorBody.parse(response.json()).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('error answers carry the version headers too', async () => {
      const response = await predict(blue, '{"features": []}');
      expect(response.headers['x-model-version']).toBe('v1.0.0');
      expect(response.headers['x-color']).toBe('blue');
    });

    it('an unknown route is a 404 in the same error shape', async () => {
      const response = await blue.inject({ method: 'GET', url: '/nope' });
      expect(response.statusCode).toBe(404);
      expect(ErrorBody.parse(response.json()).code).toBe('NOT_FOUND');
    });

    it('the service still answers after all of the above', async () => {
      expect((await predict(blue, '{"features": [[1]]}')).statusCode).toBe(200);
    });
  });

  describe('observability', () => {
    it('exposes Prometheus metrics: requests by route and status, inference time, model_info', async () => {
      await predict(blue, '{"features": [[1]]}');
      await predict(blue, '{"features": []}');
      const response = await blue.inject({ method: 'GET', url: '/metrics' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toContain('text/plain');
      const text = response.body;
      expect(text).toMatch(/http_requests_total\{route="\/predict",method="POST",status="200"\} [1-9]/);
      expect(text).toMatch(/http_requests_total\{route="\/predict",method="POST",status="422"\} [1-9]/);
      expect(text).toMatch(/http_request_duration_seconds_bucket\{le="0.005",route="\/predict",method="POST",status="200"\}/);
      expect(text).toMatch(/model_inference_duration_seconds_count [1-9]/);
      const sha = readModelCard('v1.0.0').model_sha256;
      expect(text).toContain(`model_info{version="v1.0.0",color="blue",sha256="${sha}"} 1`);
      expect(text).toContain('process_resident_memory_bytes');
    });

    it('logs one JSON line per request with the request id it was given', async () => {
      await blue.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'req-abc-123' } });
      const line = blueLogs.lines.find((entry) => entry['reqId'] === 'req-abc-123');
      expect(line).toMatchObject({ msg: 'request completed', status: 200, url: '/health', color: 'blue', version: 'v1.0.0' });
    });

    it('echoes the request id, or makes one', async () => {
      const given = await blue.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'abc' } });
      expect(given.headers['x-request-id']).toBe('abc');
      const made = await blue.inject({ method: 'GET', url: '/health/live' });
      expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('docs', () => {
    it('serves the OpenAPI 3.1 document built from the contract, with the real feature count', async () => {
      const response = await blue.inject({ method: 'GET', url: '/openapi.json' });
      expect(response.statusCode).toBe(200);
      const document = response.json();
      expect(document.openapi).toBe('3.1.0');
      expect(document.info.version).toBe('v1.0.0');
      expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/health', '/predict']));
      const row = document.components.schemas.PredictRequest.properties.features.items;
      expect(row).toMatchObject({ minItems: 1, maxItems: 1 });
    });

    it('serves Swagger UI from the installed package', async () => {
      const page = await blue.inject({ method: 'GET', url: '/docs/' });
      const html = page.statusCode === 302 ? (await blue.inject({ method: 'GET', url: page.headers.location as string })).body : page.body;
      expect(html).toContain('swagger-ui');
      expect(html).not.toMatch(/https?:\/\/(cdn|unpkg)/);
      const bundle = await blue.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
      expect(bundle.statusCode).toBe(200);
      expect(bundle.body.length).toBeGreaterThan(100_000);
    });
  });
});
