import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeBackend, fakeClock } from '../../testing/fakes';
import { stackLayout } from '../../backends/local/layout';
import { DEFAULT_PREDICTION_DIFF_SETTINGS, predictionDiffGate } from '../../gates';
import { type CommandContext, stateFolderStores } from '../context';
import { diffColors } from './diff';
import { shadowTraffic } from './shadow';

const COLORS = { blue: { version: 'v1.0.0', featureCount: 1 }, green: { version: 'v1.1.0', featureCount: 1 } };

describe('shadow, diff and the prediction-diff gate on a backend without them (a fake deployment)', () => {
  let dir: string;
  let context: CommandContext;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlbg-shadow-'));
    const layout = stackLayout(dir, join(dir, 'state'), dir);
    context = {
      backend: fakeBackend({ live: 'blue', colors: COLORS }),
      ...stateFolderStores(layout),
      clock: fakeClock(),
      userName: 'tester',
      progress: () => undefined,
      preflight: [],
    };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('shadow on refuses with DIFF_UNAVAILABLE, naming the backend, and records nothing', async () => {
    await expect(shadowTraffic(context, { kind: 'on', percent: 100, queueSize: 10 })).rejects.toMatchObject({
      code: 'DIFF_UNAVAILABLE',
      message: expect.stringContaining('--backend=local'),
    });
    expect((await context.history.read()).entries).toEqual([]);
  });

  it('diff refuses with DIFF_UNAVAILABLE; the gate is a failure that says so, never a pass', async () => {
    await expect(diffColors(context, { tolerance: { absolute: 1, relative: 0 } })).rejects.toMatchObject({ code: 'DIFF_UNAVAILABLE' });
    const gate = predictionDiffGate(DEFAULT_PREDICTION_DIFF_SETTINGS);
    const result = await gate.run({
      from: 'blue',
      to: 'green',
      colors: context.backend.colors,
      clock: context.clock,
      timing: { healthChecks: 1, healthIntervalMs: 0, verifyChecks: 1, verifyIntervalMs: 0 },
      facts: {},
    });
    expect(result).toMatchObject({
      name: 'prediction-diff',
      ok: false,
      observed: expect.stringContaining('can not be compared here'),
      hint: expect.stringContaining('--backend=local'),
    });
  });
});
