import { EXAMPLE, expect, test, V1, V2 } from '../support/fixtures';

test.describe('through nginx', () => {
  test.beforeEach(async ({ stack }) => stack.reset());

  test('the original URLs answer from the live color (blue, v1.0.0)', async ({ request, stack }) => {
    const health = await request.get(`${stack.router}/health`);
    expect(await health.json()).toMatchObject({ status: 'ok', version: V1, color: 'blue' });
    const predict = await request.post(`${stack.router}/predict`, { data: EXAMPLE, headers: { 'Content-Type': 'application/json' } });
    expect(predict.status()).toBe(200);
    expect((await predict.json()).model_version).toBe(V1);
    expect(predict.headers()['x-model-version']).toBe(V1);
    expect(predict.headers()['x-color']).toBe('blue');
  });

  test('/preview/ reaches the idle color, and only it', async ({ request, stack }) => {
    for (let i = 0; i < 5; i++) {
      const health = await request.get(`${stack.preview}/health`);
      expect(await health.json()).toMatchObject({ version: V2, color: 'green' });
    }
    const predict = await request.post(`${stack.preview}/predict`, { data: EXAMPLE });
    expect((await predict.json()).model_version).toBe(V2);
  });

  const badInputs: [string, string, string][] = [
    ['malformed JSON', '{"features": [[1]', 'application/json'],
    ['an empty batch', '{"features": []}', 'application/json'],
    ['ragged rows', '{"features": [[1], [2, 3]]}', 'application/json'],
    ['a string value', '{"features": [["x"]]}', 'application/json'],
    ['Infinity', '{"features": [[1e999]]}', 'application/json'],
    ['a text body', 'features=1', 'text/plain'],
  ];
  for (const [name, body, type] of badInputs) {
    test(`${name} gets the same 4xx through nginx as directly`, async ({ request, stack }) => {
      const direct = await request.post(`${stack.color('blue')}/predict`, { data: body, headers: { 'Content-Type': type } });
      const routed = await request.post(`${stack.router}/predict`, { data: body, headers: { 'Content-Type': type } });
      expect(direct.status()).toBeGreaterThanOrEqual(400);
      expect(direct.status()).toBeLessThan(500);
      expect(routed.status()).toBe(direct.status());
      expect(await routed.json()).toEqual(await direct.json());
    });
  }

  test('a huge body is refused cleanly with a JSON 413, and the service keeps answering', async ({ request, stack }) => {
    const huge = JSON.stringify({ features: Array.from({ length: 200_000 }, () => [1.2345678]) });
    expect(huge.length).toBeGreaterThan(1_048_576);
    const response = await request.post(`${stack.router}/predict`, { data: huge, headers: { 'Content-Type': 'application/json' } });
    expect(response.status()).toBe(413);
    expect(await response.json()).toMatchObject({ code: 'BODY_TOO_LARGE' });
    const after = await request.post(`${stack.router}/predict`, { data: EXAMPLE });
    expect(after.status()).toBe(200);
  });

  test("too many rows in a body under the size limit is the service's 413", async ({ request, stack }) => {
    const rows = JSON.stringify({ features: Array.from({ length: 10_001 }, () => [1]) });
    const response = await request.post(`${stack.router}/predict`, { data: rows, headers: { 'Content-Type': 'application/json' } });
    expect(response.status()).toBe(413);
    expect(await response.json()).toMatchObject({ code: 'BATCH_TOO_LARGE' });
  });
});
