import { EXAMPLE, expect, failedGates, MODELS, test, V1, V2 } from '../support/fixtures';

test.describe('switching live traffic', () => {
  test.beforeEach(async ({ stack }) => stack.reset());

  test('switch to green, then back to blue', async ({ request, stack }) => {
    const toGreen = await stack.switchTo('green');
    expect(toGreen.ok, toGreen.error?.message).toBe(true);
    expect(toGreen.result).toMatchObject({ from: 'blue', to: 'green' });
    expect(await (await request.get(`${stack.router}/health`)).json()).toMatchObject({ version: V2, color: 'green' });
    expect((await (await request.post(`${stack.router}/predict`, { data: EXAMPLE })).json()).model_version).toBe(V2);
    // The old color is the preview now: the instant rollback.
    expect(await (await request.get(`${stack.preview}/health`)).json()).toMatchObject({ version: V1, color: 'blue' });

    const toBlue = await stack.switchTo('blue');
    expect(toBlue.ok).toBe(true);
    expect(await (await request.get(`${stack.router}/health`)).json()).toMatchObject({ version: V1, color: 'blue' });
  });

  test('a switch with no color toggles, like the old switch_traffic.sh', async ({ request, stack }) => {
    expect((await stack.switchTo()).result).toMatchObject({ from: 'blue', to: 'green' });
    expect((await (await request.get(`${stack.router}/health`)).json()).color).toBe('green');
    expect((await stack.switchTo()).result).toMatchObject({ from: 'green', to: 'blue' });
    expect((await (await request.get(`${stack.router}/health`)).json()).color).toBe('blue');
  });

  test('a switch to the live color is a no-op that says so', async ({ stack }) => {
    const again = await stack.switchTo('blue');
    expect(again.ok).toBe(true);
    expect(again.result.kind).toBe('noop');
  });

  test('rollback returns to the previous color', async ({ request, stack }) => {
    await stack.switchTo('green');
    const rollback = await stack.run('rollback');
    expect(rollback.ok, rollback.error?.message).toBe(true);
    expect(await (await request.get(`${stack.router}/health`)).json()).toMatchObject({ version: V1, color: 'blue' });
  });

  test('status reports the live color and the version nginx serves', async ({ stack }) => {
    await stack.switchTo('green');
    const status = await stack.run('status');
    expect(status.result.live).toBe('green');
    expect(status.result.router?.serving.version).toBe(V2);
  });

  test('a switch to a stopped color is refused, changes nothing, and live traffic is unaffected', async ({ request, stack }) => {
    const before = await stack.status();
    // Every replica of it: one stopped replica is answered for by its sibling.
    const greenPids = (before.colors?.green.replicaList ?? []).map((replica) => replica.pid);
    expect(greenPids.length).toBeGreaterThan(0);
    for (const pid of greenPids) process.kill(pid as number, 'SIGTERM');
    await expect
      .poll(async () => (await request.get(`${stack.color('green')}/health`).catch(() => undefined))?.status() ?? 0)
      .not.toBe(200);

    const refused = await stack.switchTo('green');
    expect(refused.ok).toBe(false);
    expect(refused.code).toBe(1);
    expect(refused.error?.message).toMatch(/green/);
    // Refused by a preflight gate, and the history names it: green's health streak found no answer.
    expect(refused.error?.code).toBe('PREFLIGHT_FAILED');
    expect(failedGates(stack)).toEqual(['health-streak']);
    for (let i = 0; i < 10; i++) {
      const live = await request.post(`${stack.router}/predict`, { data: EXAMPLE });
      expect(live.status()).toBe(200);
      expect((await live.json()).model_version).toBe(V1);
    }
    expect((await stack.status()).live).toBe('blue');
    // The preview route says the idle color is down, as JSON, and never falls back to live: nginx's own answer once
    // no replica of green listens, or, while a stopped replica still drains (up to its drain deadline), its own 503.
    const preview = await request.get(`${stack.preview}/health`);
    expect(preview.status()).toBe(503);
    const down = (await preview.json()) as { code?: string; color?: string; status?: string };
    expect(down.code === 'PREVIEW_UNAVAILABLE' || (down.color === 'green' && down.status === 'draining') ? 'green is down' : down).toBe(
      'green is down',
    );

    expect((await stack.run('release', `--model=${MODELS.v2}`, '--color=green')).ok).toBe(true);
  });
});
