import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answer, fakeBackend, fakeClock } from '../../testing/fakes';
import { DeployError } from '../../errors';
import { appendHistory, readHistory } from '../../history/history';
import { routesWithLive } from '../../routing/routes';
import type { Backend } from '../../backends/backend';
import { type Gate, failed, gatesNamed } from '../../gates';
import { formatSwitch } from '../../cli/format';
import type { ModelSignature } from '@mlbg/contract';
import { DEFAULT_PREFLIGHT_GATES } from '../../spec/deployment-spec';
import { type CommandContext, stateFolderStores } from '../context';
import { rollbackTraffic } from './rollback';
import { type StackLayout, stackLayout } from '../../backends/local/layout';
import { withStackLock } from '../../effects/lock';
import { switchFailureCode, switchTraffic } from './switch';
import { KEPT_CONNECTION_GRACE_MS } from './verify-route';

const BLUE = { version: 'v1.0.0', featureCount: 1 };
const GREEN = { version: 'v1.1.0', featureCount: 1 };

describe('switchTraffic (a fake deployment)', () => {
  let dir: string;
  let layout: StackLayout;
  let progress: string[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlbg-switch-'));
    layout = stackLayout(dir, join(dir, 'state'), dir);
    progress = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // The outcomes; each moving switch also records its intent first (see the intent test below).
  const history = () => readHistory(layout.historyFile).entries.filter((entry) => entry.command !== 'switch-intent');
  const everyLine = () => readHistory(layout.historyFile).entries;
  const ctx = (backend: Backend): CommandContext => ({
    backend,
    ...stateFolderStores(layout),
    clock: fakeClock(),
    userName: 'tester',
    progress: (line) => progress.push(line),
    preflight: gatesNamed(DEFAULT_PREFLIGHT_GATES),
  });

  it('given a healthy green, when switching to it, then live moves once, is verified, and the history says so', async () => {
    const backend = fakeBackend({ live: 'blue', colors: { blue: BLUE, green: GREEN } });
    const result = await switchTraffic(ctx(backend), { color: 'green' });
    expect(result).toMatchObject({ kind: 'switched', from: 'blue', to: 'green', fromVersion: 'v1.0.0', toVersion: 'v1.1.0' });
    expect(backend.moves).toEqual(['green']);
    expect(history()).toEqual([
      expect.objectContaining({
        user: 'tester',
        backend: 'local',
        command: 'switch',
        from: 'blue',
        to: 'green',
        fromVersion: 'v1.0.0',
        toVersion: 'v1.1.0',
        outcome: 'switched',
      }),
    ]);
    expect(history()[0]?.reason).toBeUndefined();
    expect(everyLine().map((entry) => `${entry.command} ${entry.outcome}`)).toEqual(['switch-intent intended', 'switch switched']);
  });

  it('given a switch whose command was killed after its intent, when the next switch runs, then it first settles it from the routes the backend really has', async () => {
    const backend = fakeBackend({ live: 'blue', colors: { blue: BLUE, green: GREEN } });
    await switchTraffic(ctx(backend), { color: 'green' });
    // As if a later `switch --color=blue` was killed after its intent and its rename: the route moved, no outcome.
    const intent = everyLine()[0];
    if (intent?.command !== 'switch-intent') throw new Error('expected an intent first');
    appendHistory(layout.historyFile, { ...intent, from: 'green', to: 'blue', routes: routesWithLive('blue') });
    await backend.setRoutes(routesWithLive('blue'));
    const next = await switchTraffic(ctx(backend), { color: 'blue' });
    expect(next).toMatchObject({ kind: 'noop', color: 'blue' });
    expect(
      everyLine()
        .slice(-2)
        .map((entry) => `${entry.command} ${entry.outcome}`),
    ).toEqual(['switch-intent intended', 'reconcile flipped']);
    expect(progress.join('\n')).toContain('was interrupted after the route moved: blue is live');
  });

  it('toggles without a color, and calls a switch to the live color a no-op without touching anything', async () => {
    const backend = fakeBackend({ live: 'green', colors: { blue: BLUE, green: GREEN }, recorded: { green: { version: 'v1.1.0' } } });
    expect(await switchTraffic(ctx(backend), { color: 'green' })).toEqual({ kind: 'noop', color: 'green', version: 'v1.1.0' });
    expect(backend.moves).toEqual([]);
    expect(history()).toEqual([]);
    expect(await switchTraffic(ctx(backend), {})).toMatchObject({ kind: 'switched', to: 'blue' });
  });

  it.each([
    ['answers 503', { ...GREEN, health: 503 }, /green \/health \(check 1 of 3\) answered 503 with status "draining"/],
    ['does not answer', { ...GREEN, health: 'down' as const }, /green \/health \(check 1 of 3\) no answer \(connect ECONNREFUSED/],
    [
      'is another color behind its socket',
      { ...GREEN, answersAs: 'blue' as const },
      /was answered by blue: the green socket reaches the wrong service/,
    ],
    ['fails /predict', { ...GREEN, predict: 500 }, /green POST \/predict answered 500/],
    [
      'takes another input signature',
      { ...GREEN, featureCount: 3 },
      /input signature differs: green \(v1\.1\.0\) takes 3 feature\(s\) per row, live blue takes 1/,
    ],
  ])('refuses when the target %s, changing nothing', async (_, green, reason) => {
    const backend = fakeBackend({ live: 'blue', colors: { blue: BLUE, green } });
    const result = await switchTraffic(ctx(backend), { color: 'green' });
    expect(result).toMatchObject({ kind: 'refused', from: 'blue', to: 'green', reason: expect.stringMatching(reason) });
    expect(backend.moves).toEqual([]);
    expect(history()).toEqual([expect.objectContaining({ outcome: 'refused', reason: expect.stringMatching(reason) })]);
  });

  it('refuses a version other than the one recorded (or required), even if healthy', async () => {
    const backend = fakeBackend({ live: 'blue', colors: { blue: BLUE, green: GREEN }, recorded: { green: { version: 'v1.2.0' } } });
    expect(await switchTraffic(ctx(backend), { color: 'green' })).toMatchObject({
      kind: 'refused',
      reason: 'green /health (check 1 of 3) answered version v1.1.0, but expected v1.2.0: the version recorded when it was started.',
    });
    const required = await switchTraffic(ctx(fakeBackend({ live: 'blue', colors: { blue: BLUE, green: GREEN } })), {
      color: 'green',
      expectVersion: 'v9.9.9',
    });
    expect(required).toMatchObject({ kind: 'refused', reason: expect.stringContaining('expected v9.9.9: required by --expect-version') });
  });

  it('asks for health several times in a row, and compares with the recorded signature when the live color is down', async () => {
    const backend = fakeBackend({
      live: 'blue',
      colors: { blue: { ...BLUE, health: 'down' }, green: GREEN },
      recorded: { blue: { version: 'v1.0.0', featureCount: 1 } },
    });
    const result = await switchTraffic(ctx(backend), { color: 'green' });
    expect(result).toMatchObject({ kind: 'switched', fromVersion: 'v1.0.0' });
    expect(result.kind === 'switched' && result.gates.map((gate) => gate.observed)).toContain(
      'green /health: 200 "ok" v1.1.0, 3 times in a row',
    );
    const unknown = fakeBackend({ live: 'blue', colors: { blue: { ...BLUE, health: 'down' }, green: GREEN } });
    expect(await switchTraffic(ctx(unknown), { color: 'green' })).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining('no input signature is recorded'),
    });
  });

  it('moves the route back when nginx does not serve the target afterwards', async () => {
    const backend = fakeBackend({
      live: 'blue',
      colors: { blue: BLUE, green: GREEN },
      router: (live) =>
        live === 'green' ? answer(503, { detail: 'The live color is not answering', code: 'LIVE_UNAVAILABLE' }) : undefined,
    });
    const result = await switchTraffic(ctx(backend), { color: 'green' });
    expect(result).toMatchObject({
      kind: 'reverted',
      reason: expect.stringContaining('through nginx, http://127.0.0.1:8080/health (check 1) answered 503'),
    });
    expect(backend.moves).toEqual(['green', 'blue']);
    expect(backend.live()).toBe('blue');
    expect(history()[0]).toMatchObject({ outcome: 'reverted' });
  });

  const blueThroughNginx = answer(
    200,
    { status: 'ok', version: 'v1.0.0', color: 'blue', feature_count: 1, model_sha256: 'b', uptime_seconds: 1 },
    { 'x-color': 'blue' },
  );

  it('accepts answers from the previous color on kept connections for a moment after the move, then needs the target several times in a row', async () => {
    let keptConnections = 2;
    const backend = fakeBackend({
      live: 'blue',
      colors: { blue: BLUE, green: GREEN },
      router: (live) => (live === 'green' && keptConnections-- > 0 ? blueThroughNginx : undefined),
    });
    const result = await switchTraffic(ctx(backend), { color: 'green' });
    expect(result).toMatchObject({ kind: 'switched', to: 'green' });
    expect(result.kind === 'switched' && result.gates.at(-1)?.observed).toContain(
      '3 times in a row (after 2 answer(s) from blue on kept connections)',
    );
    expect(backend.moves).toEqual(['green']);
  });

  it(`moves the route back when nginx still answers from the previous color ${KEPT_CONNECTION_GRACE_MS} ms after the move`, async () => {
    const backend = fakeBackend({
      live: 'blue',
      colors: { blue: BLUE, green: GREEN },
      router: (live) => (live === 'green' ? blueThroughNginx : undefined),
    });
    const result = await switchTraffic(ctx(backend), { color: 'green' });
    expect(result).toMatchObject({ kind: 'reverted', reason: expect.stringMatching(/answered blue v1\.0\.0, expected green v1\.1\.0$/) });
    expect(backend.moves).toEqual(['green', 'blue']);
  });

  it('says so loudly when moving back fails too', async () => {
    const backend = fakeBackend({
      live: 'blue',
      colors: { blue: BLUE, green: GREEN },
      router: () => new Error('connect ECONNREFUSED 127.0.0.1:8080'),
      failPointAt: (color) => color === 'blue',
    });
    const result = await switchTraffic(ctx(backend), { color: 'green' });
    expect(result).toMatchObject({ kind: 'broken', revertError: expect.stringContaining('EACCES') });
    expect(history()[0]?.reason).toContain('switching back failed');
  });

  it('given a backend that can not record the move (a full state folder) and so moves nothing, when switching, then it is a refusal with STATE_NOT_WRITABLE, nothing is moved back, and the history says why', async () => {
    const fake = fakeBackend({ live: 'blue', colors: { blue: BLUE, green: GREEN } });
    const tries: string[] = [];
    const backend: Backend = {
      ...fake,
      setRoutes: async (routes) => {
        tries.push(JSON.stringify(routes.live));
        throw new DeployError(
          'STATE_NOT_WRITABLE',
          'state.json could not be written (ENOSPC: no space left on device, write); no route was moved.',
        );
      },
    };
    const result = await switchTraffic(ctx(backend), { color: 'green' });
    expect(result).toMatchObject({ kind: 'refused', stateNotWritable: true, reason: expect.stringContaining('no route was moved') });
    expect(switchFailureCode(result as Parameters<typeof switchFailureCode>[0])).toBe('STATE_NOT_WRITABLE');
    // One try: nothing moved, so there was nothing to move back.
    expect(tries).toEqual([JSON.stringify({ blue: 0, green: 100 })]);
    expect(fake.moves).toEqual([]);
    expect(everyLine().map((entry) => `${entry.command} ${entry.outcome}`)).toEqual(['switch-intent intended', 'switch refused']);
    expect(history()[0]?.reason).toContain('ENOSPC');
  });

  it('refuses while another deploy command holds the lock, changing nothing', async () => {
    const backend = fakeBackend({ live: 'blue', colors: { blue: BLUE, green: GREEN } });
    let inner: unknown;
    await withStackLock(layout, { command: 'release --model=x.onnx', user: 'someone' }, async () => {
      inner = await switchTraffic(ctx(backend), { color: 'green' }).catch((error: unknown) => error);
    });
    expect(inner).toBeInstanceOf(DeployError);
    expect((inner as DeployError).code).toBe('LOCKED');
    expect((inner as DeployError).message).toMatch(/`release --model=x\.onnx` \(pid \d+, user someone\) holds it since/);
    expect(backend.moves).toEqual([]);
    expect(await switchTraffic(ctx(backend), { color: 'green' })).toMatchObject({ kind: 'switched' });
  });

  it('rolls back to the previous color, and says when there is nothing to roll back', async () => {
    const backend = fakeBackend({ live: 'blue', colors: { blue: BLUE, green: GREEN } });
    await expect(rollbackTraffic(ctx(backend))).rejects.toMatchObject({ code: 'NOTHING_TO_ROLL_BACK' });
    await switchTraffic(ctx(backend), { color: 'green' });
    expect(await rollbackTraffic(ctx(backend))).toMatchObject({ kind: 'switched', from: 'green', to: 'blue' });
    expect(history().map((item) => item.command)).toEqual(['switch', 'rollback']);
  });

  it('refuses a rollback to a color that was released again since the switch', async () => {
    const colors = { blue: BLUE, green: GREEN };
    const backend = fakeBackend({ live: 'blue', colors });
    await switchTraffic(ctx(backend), { color: 'green' });
    colors.blue = { version: 'v1.2.0', featureCount: 1 };
    expect(await rollbackTraffic(ctx(backend))).toMatchObject({
      kind: 'refused',
      reason: expect.stringMatching(/answered version v1\.2\.0, but expected v1\.0\.0: blue ran it before the last switch/),
    });
    expect(backend.live()).toBe('green');
  });
});

describe('the preflight is the configured list of gates', () => {
  it('given an added gate that refuses, when switching, then nothing moves and every gate result is in the history', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlbg-gates-'));
    try {
      const layout = stackLayout(dir, join(dir, 'state'), dir);
      // A team's own gate: one object with a name and a run(), added to the list.
      const changeWindow: Gate = {
        name: 'change-window',
        run: async () =>
          failed(
            'change-window',
            'it is Friday 18:05',
            'a weekday before 16:00',
            'Wait for Monday, or take change-window out of gates.preflight.',
          ),
      };
      const backend = fakeBackend({ live: 'blue', colors: { blue: BLUE, green: GREEN } });
      const context: CommandContext = {
        backend,
        ...stateFolderStores(layout),
        clock: fakeClock(),
        userName: 'tester',
        progress: () => undefined,
        preflight: [...gatesNamed(DEFAULT_PREFLIGHT_GATES), changeWindow],
      };
      const result = await switchTraffic(context, { color: 'green' });
      expect(result).toMatchObject({ kind: 'refused', reason: 'it is Friday 18:05' });
      expect(backend.moves).toEqual([]);
      const [entry] = readHistory(layout.historyFile).entries;
      expect(entry?.gates.map((gate) => [gate.name, gate.ok])).toEqual([
        ['health-streak', true],
        ['predict', true],
        ['signature', true],
        ['change-window', false],
      ]);
      expect(entry?.gates[3]).toEqual({
        name: 'change-window',
        ok: false,
        observed: 'it is Friday 18:05',
        expected: 'a weekday before 16:00',
        hint: 'Wait for Monday, or take change-window out of gates.preflight.',
      });
      expect(formatSwitch(result, 'switch')).toEqual(
        expect.arrayContaining([
          '  FAILED  change-window: it is Friday 18:05',
          '          what to do: Wait for Monday, or take change-window out of gates.preflight.',
        ]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compares whole signatures when both colors report one: a classifier does not replace a regression model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlbg-gates-'));
    try {
      const layout = stackLayout(dir, join(dir, 'state'), dir);
      const regression: ModelSignature = {
        task: 'regression',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
        outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }],
      };
      const classifier: ModelSignature = {
        task: 'classification',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
        outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }],
        classes: ['a', 'b', 'c'],
      };
      const context = (backend: Backend): CommandContext => ({
        backend,
        ...stateFolderStores(layout),
        clock: fakeClock(),
        userName: 'tester',
        progress: () => undefined,
        preflight: gatesNamed(DEFAULT_PREFLIGHT_GATES),
      });
      const refused = await switchTraffic(
        context(
          fakeBackend({
            live: 'blue',
            colors: {
              blue: { ...BLUE, featureCount: 4, signature: regression },
              green: { ...GREEN, featureCount: 4, signature: classifier },
            },
          }),
        ),
        { color: 'green' },
      );
      expect(refused).toMatchObject({
        kind: 'refused',
        reason: expect.stringMatching(
          /^input signature differs: green \(v1\.1\.0\) against live blue: task differs: it is a classification model, live is a regression model; /,
        ),
      });
      const same = await switchTraffic(
        context(
          fakeBackend({
            live: 'blue',
            colors: {
              blue: { ...BLUE, featureCount: 4, signature: regression },
              green: { ...GREEN, featureCount: 4, signature: regression },
            },
          }),
        ),
        { color: 'green' },
      );
      expect(same).toMatchObject({ kind: 'switched' });
      expect(same.kind === 'switched' && same.gates.find((gate) => gate.name === 'signature')?.observed).toBe(
        'signature: regression, inputs features FP32 [-1,4], outputs y FP32 [-1,1], same as blue',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a switch when no gate is configured: an unchecked switch is never made', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlbg-gates-'));
    try {
      const layout = stackLayout(dir, join(dir, 'state'), dir);
      const backend = fakeBackend({ live: 'blue', colors: { blue: BLUE, green: GREEN } });
      const result = await switchTraffic(
        { backend, ...stateFolderStores(layout), clock: fakeClock(), userName: 'tester', progress: () => undefined, preflight: [] },
        { color: 'green' },
      );
      expect(result).toMatchObject({ kind: 'refused', reason: expect.stringContaining('no preflight gate is configured') });
      expect(backend.moves).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names an unknown gate of the spec and the known ones', () => {
    expect(() => gatesNamed(['health-streak', 'vibes'])).toThrow(
      'unknown gate "vibes" in gates.preflight; the gates are health-streak, predict, signature',
    );
  });
});
