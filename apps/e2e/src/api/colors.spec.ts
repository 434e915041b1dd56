import { EXAMPLE, expect, test, VERSION_OF } from '../support/fixtures';

for (const color of ['blue', 'green'] as const) {
  test.describe(`${color}, directly on its own port`, () => {
    test('GET /health answers ok with its version and color', async ({ request, stack }) => {
      const response = await request.get(`${stack.color(color)}/health`);
      expect(response.status()).toBe(200);
      expect(await response.json()).toMatchObject({ status: 'ok', version: VERSION_OF[color], color });
      expect(response.headers()['x-model-version']).toBe(VERSION_OF[color]);
      expect(response.headers()['x-color']).toBe(color);
    });

    test('POST /predict answers the original example with one prediction per row', async ({ request, stack }) => {
      const response = await request.post(`${stack.color(color)}/predict`, { data: EXAMPLE });
      expect(response.status()).toBe(200);
      const body = await response.json();
      expect(Object.keys(body).sort()).toEqual(['model_version', 'predictions']);
      expect(body.model_version).toBe(VERSION_OF[color]);
      expect(body.predictions).toHaveLength(3);
      for (const value of body.predictions) expect(Number.isFinite(value)).toBe(true);
      expect(response.headers()['x-color']).toBe(color);
    });
  });
}

test('the two versions predict differently', async ({ request, stack }) => {
  const blue = await (await request.post(`${stack.color('blue')}/predict`, { data: EXAMPLE })).json();
  const green = await (await request.post(`${stack.color('green')}/predict`, { data: EXAMPLE })).json();
  expect(blue.predictions).not.toEqual(green.predictions);
});
