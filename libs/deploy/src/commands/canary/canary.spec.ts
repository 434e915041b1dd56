import { type Color, PREDICTIONS_ADMIN_PATH } from '@mlbg/contract';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../../backends/backend';
import { stackLayout } from '../../backends/local/layout';
import { gatesNamed } from '../../gates';
import type { ColorAccess } from '../../gates/gate';
import { readHistory } from '../../history/history';
import { type Routes, routesWithLive } from '../../routing/routes';
import { CanarySpec } from '../../spec/canary-spec';
import { DEFAULT_PREDICTION_DIFF, DEFAULT_PREFLIGHT_GATES } from '../../spec/deployment-spec';
import { localMeter, localServedBetween } from '../../backends/local/canary-meter';
import type { Clock } from '../../effects/deps';
import { answer, fakeBackend, fakeClock } from '../../testing/fakes';
import { canaryCommand } from './canary';
import { type CommandContext, stateFolderStores } from '../context';

const COLORS = { blue: { version: 'v1.0.0', featureCount: 1 }, green: { version: 'v1.1.0', featureCount: 1 } };
const noSignals = { stopRequested: () => false, promoteRequested: () => false };

/**
 * A fake deployment whose "nginx" writes `perRead` access-log lines on every read, split by the
 * live weights, green answering with `greenStatus`: enough to drive the canary without processes.
 */
function fakeCanaryBackend(options: {
  perRead: number;
  greenStatus?: number;
  greenHealth?: number;
}): Backend & { routeLog: Routes[]; clock: Clock } {
  const clock = fakeClock();
  const base = fakeBackend({
    live: 'blue',
    colors: { blue: COLORS.blue, green: { ...COLORS.green, ...(options.greenHealth ? { health: options.greenHealth } : {}) } },
  });
  let routes: Routes = routesWithLive('blue');
  const routeLog: Routes[] = [];
  let log = '';
  let served = 0;
  const line = (color: Color) =>
    JSON.stringify({
      status: color === 'green' ? (options.greenStatus ?? 200) : 200,
      request_time: 0.002,
      upstream_addr: 'unix:/run/live-slot-00/r1.sock',
      color,
    });
  const readAccessLog = async (from: number | 'end') => {
    for (let index = 0; index < options.perRead; index += 1, served += 1)
      log += `${line(served % 100 < routes.live.green ? 'green' : 'blue')}\n`;
    return from === 'end' ? { text: '', next: log.length } : { text: log.slice(from), next: log.length };
  };
  return {
    ...base,
    routeLog,
    readRoutes: async () => routes,
    setRoutes: async (next) => {
      routes = next;
      routeLog.push(next);
    },
    // nginx answers as the color with the larger share.
    routerHealth: () => base.colors.health(routes.live.green > routes.live.blue ? 'green' : 'blue'),
    clock,
    canary: {
      slots: 20,
      previewPathPrefix: '/preview/',
      meter: (colors) => localMeter({ slots: 20, clock, readAccessLog, metrics: async () => answer(503, {}) }, colors),
      servedBetween: (window, routes) => localServedBetween({ slots: 20, readAccessLog }, window, routes),
      request: async () => answer(200, {}),
    },
  };
}

describe('canaryCommand (a fake deployment: no processes, no nginx)', () => {
  let dir: string;
  let layout: ReturnType<typeof stackLayout>;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlbg-canary-'));
    layout = stackLayout(dir, join(dir, 'state'), dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const context = (backend: Backend & { clock?: Clock }): CommandContext => ({
    backend,
    ...stateFolderStores(layout),
    clock: backend.clock ?? fakeClock(),
    userName: 'tester',
    progress: () => undefined,
    preflight: gatesNamed(DEFAULT_PREFLIGHT_GATES),
  });
  // These fakes keep no prediction records: the answers' checks are off here (the judge's own specs and canary-judge.int.spec.ts run them).
  const settings = (canary: Record<string, unknown>) => ({
    spec: CanarySpec.parse({
      steps: [25, 100],
      intervalSeconds: 1,
      ...canary,
      analysis: { outputs: { enabled: false }, ...(canary['analysis'] as object) },
    }),
  });
  const history = () => readHistory(layout.historyFile).entries;

  it('says a backend without weighted routes (Compose today) can not run a canary, and changes nothing', async () => {
    const backend = fakeBackend({ live: 'blue', colors: COLORS });
    await expect(
      canaryCommand(context(backend), { kind: 'start', color: 'green', keep: false }, settings({}), noSignals),
    ).rejects.toMatchObject({ code: 'CANARY_NOT_SUPPORTED' });
    expect(backend.moves).toEqual([]);
    expect(history()).toEqual([]);
  });

  it('refuses to start when the canary fails its preflight, and changes nothing', async () => {
    const backend = fakeCanaryBackend({ perRead: 50, greenHealth: 503 });
    const result = await canaryCommand(context(backend), { kind: 'start', color: 'green', keep: false }, settings({}), noSignals);
    expect(result).toMatchObject({ kind: 'refused', canary: 'green', weight: 0 });
    expect(backend.routeLog).toEqual([]);
    expect(history().map((entry) => [entry.command, entry.outcome])).toEqual([['canary', 'refused']]);
  });

  it("refuses to start when the canary color does not answer with the version asked for (--expect-version, the dashboard's confirmed version)", async () => {
    const backend = fakeCanaryBackend({ perRead: 50 });
    const result = await canaryCommand(
      context(backend),
      { kind: 'start', color: 'green', keep: false, expectVersion: 'v9.9.9' },
      settings({}),
      noSignals,
    );
    expect(result).toMatchObject({ kind: 'refused', canary: 'green', weight: 0, reason: expect.stringContaining('v9.9.9') });
    expect(backend.routeLog).toEqual([]);
    expect(history().map((entry) => [entry.command, entry.outcome])).toEqual([['canary', 'refused']]);
  });

  it('never passes an interval with too little traffic: with lowTraffic "wait" it holds, then rolls back as unjudgeable', async () => {
    const backend = fakeCanaryBackend({ perRead: 0 });
    const result = await canaryCommand(
      context(backend),
      { kind: 'start', color: 'green', keep: false },
      settings({ lowTraffic: 'wait', analysis: { maxInconclusive: 3 } }),
      noSignals,
    );
    expect(result).toMatchObject({
      kind: 'rolled-back',
      reason: expect.stringContaining('3 interval(s) in a row had too little traffic to judge the canary'),
    });
    if (result.kind === 'noop') throw new Error('unexpected noop');
    expect(result.intervals.map((interval) => interval.verdict)).toEqual(['inconclusive', 'inconclusive', 'inconclusive']);
    expect(backend.routeLog.map((routes) => routes.live.green)).toEqual([25, 0]);
  });

  it('replays every pair an interval without records is short of, however slowly the colors answer: each answer takes 300 ms of the clock, the first interval still has its minimum of pairs and passes', async () => {
    const backend = fakeCanaryBackend({ perRead: 1_000 });
    const request: NonNullable<ColorAccess['request']> = async (color, call) => {
      // No records (a backend or color that keeps none): the answers can only be judged on replayed pairs.
      if (call.path.startsWith(PREDICTIONS_ADMIN_PATH))
        return answer(200, { color, version: COLORS[color].version, capacity: 1_000, recorded: 0, records: [] });
      await backend.clock.sleep(300);
      const rows = (JSON.parse(call.body ?? '{}') as { features: number[][] }).features;
      return answer(200, { predictions: rows.map((row) => 2 * (row[0] ?? 0)), model_version: COLORS[color].version });
    };
    const result = await canaryCommand(
      context({ ...backend, colors: { ...backend.colors, request } }),
      { kind: 'start', color: 'green', keep: false },
      { ...settings({ analysis: { outputs: { enabled: true } } }), replay: ['{"features": [[1]]}', '{"features": [[2]]}'] },
      noSignals,
    );
    if (result.kind === 'noop') throw new Error('unexpected noop');
    expect(result.intervals.map((interval) => [interval.weight, interval.verdict, interval.replayed])).toEqual([
      [25, 'pass', DEFAULT_PREDICTION_DIFF.minPairs],
    ]);
    expect(result).toMatchObject({ kind: 'promoted', weight: 100 });
  });

  it('rolls back after failureLimit failed intervals in a row, with the numbers, when the canary answers 5xx', async () => {
    const backend = fakeCanaryBackend({ perRead: 200, greenStatus: 500 });
    const result = await canaryCommand(
      context(backend),
      { kind: 'start', color: 'green', keep: false },
      settings({ analysis: { failureLimit: 2 } }),
      noSignals,
    );
    expect(result).toMatchObject({
      kind: 'rolled-back',
      reason: expect.stringMatching(
        /failed 2 interval\(s\) in a row .*error-share FAIL: green \d+ of \d+ 5xx \(100\.00%\).*p [0-9.e-]+ \(Holm/,
      ),
    });
    expect(history().at(-1)).toMatchObject({
      command: 'canary',
      outcome: 'rolled-back',
      weight: 0,
      routes: { live: { blue: 100, green: 0 } },
    });
  });

  it('promotes a healthy canary through its steps and verifies the promotion through the router', async () => {
    // 1,000 lines a read: green's 5% reaches the minimum of 100 requests in one interval.
    const backend = fakeCanaryBackend({ perRead: 1_000 });
    const result = await canaryCommand(
      context(backend),
      { kind: 'start', color: 'green', keep: false },
      settings({ steps: [5, 50, 100] }),
      noSignals,
    );
    expect(result).toMatchObject({ kind: 'promoted', weight: 100 });
    expect(result).not.toHaveProperty('reason');
    expect(backend.routeLog.map((routes) => routes.live.green)).toEqual([5, 50, 100]);
    expect(history().map((entry) => entry.command === 'canary' && entry.outcome)).toEqual(['started', 'promoted']);
  });
});
