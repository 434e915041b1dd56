import { EXAMPLE, expect, failedGates, MODELS, test, V1 } from '../support/fixtures';

test.describe('release: a new model on the idle color, smoke-tested on /preview/, then switched', () => {
  test.beforeEach(async ({ stack }) => stack.reset());
  test.afterAll(async ({ stack }) => stack.reset());

  test('the released model is on the preview entry and not live until the switch', async ({ request, stack }) => {
    // A model a user brought (3 features, no version metadata) goes to the idle color.
    const release = await stack.run('release', `--model=${MODELS.threeFeatures}`);
    expect(release.ok, release.error?.message).toBe(true);
    expect(release.result.color).toBe('green');
    const version = release.result.version;
    expect(version).toMatch(/^sha256-/);

    const preview = await request.post(`${stack.preview}/predict`, { data: { features: [[1, 2, 3]] } });
    expect(preview.status()).toBe(200);
    expect((await preview.json()).model_version).toBe(version);
    expect((await (await request.get(`${stack.router}/health`)).json()).version).toBe(V1);

    // Its input signature (3 features) differs from the live one (1): the switch must refuse.
    const refused = await stack.switchTo('green');
    expect(refused.ok).toBe(false);
    expect(refused.error?.message).toMatch(/feature/i);
    // Refused by a preflight gate, and the history names it: the signature gate.
    expect(refused.error?.code).toBe('PREFLIGHT_FAILED');
    expect(failedGates(stack)).toEqual(['signature']);
    expect((await (await request.post(`${stack.router}/predict`, { data: EXAMPLE })).json()).model_version).toBe(V1);
  });

  test('release, smoke-test, switch: the new version goes live', async ({ request, stack }) => {
    const release = await stack.run('release', `--model=${MODELS.v1}`, '--color=green');
    expect(release.ok, release.error?.message).toBe(true);
    expect((await (await request.get(`${stack.preview}/health`)).json()).version).toBe(V1);
    await stack.run('release', `--model=${MODELS.v2}`, '--color=green');
    expect((await stack.switchTo('green')).ok).toBe(true);
    expect((await (await request.get(`${stack.router}/health`)).json()).version).toBe('v1.1.0');
  });

  test('release refuses the live color and a missing file, changing nothing', async ({ stack }) => {
    const live = await stack.run('release', `--model=${MODELS.v2}`, '--color=blue');
    expect(live.ok).toBe(false);
    expect(live.error?.code).toBe('LIVE_COLOR_RELEASE');
    const missing = await stack.run('release', '--model=models/nope/model.onnx');
    expect(missing.ok).toBe(false);
    expect(missing.error?.message).toMatch(/nope/);
    expect(missing.error?.code).toBe('MODEL_NOT_FOUND');
    expect((await stack.status()).live).toBe('blue');
  });
});
