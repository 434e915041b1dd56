import type { Color } from '@mlbg/contract';
import { answer, fakeBackend, fakeClock } from '../testing/fakes';
import { DEFAULT_SWITCH_TIMING, type Gate, type GateFacts, type ReplicaAccess, passed } from './gate';
import { gatesNamed } from './index';
import { runPreflight } from './run-gates';
import { DEFAULT_PREFLIGHT_GATES } from '../spec/deployment-spec';

const VERSION = 'v1.1.0';

/** A replica of green that answers /health with `status` (or not at all) and /predict with 200. */
function replica(name: string, status: number | 'down', version = VERSION): ReplicaAccess {
  const health = {
    status: status === 200 ? 'ok' : 'starting',
    version,
    color: 'green',
    feature_count: 1,
    model_sha256: 'x',
    uptime_seconds: 1,
  };
  return {
    name,
    health: async () => {
      if (status === 'down') throw Object.assign(new Error(`connect ECONNREFUSED ${name}`), { code: 'ECONNREFUSED' });
      return answer(status, health, { 'x-color': 'green' });
    },
    predict: async () => answer(200, { predictions: [1, 2, 3], model_version: version }),
  };
}

/** Blue live as one process; green as the given replicas. */
function preflightOn(replicas: readonly ReplicaAccess[], quorum: 'all' | number) {
  const backend = fakeBackend({
    live: 'blue',
    colors: { blue: { version: 'v1.0.0', featureCount: 1 }, green: { version: VERSION, featureCount: 1 } },
  });
  const facts: GateFacts = {};
  const colors = { ...backend.colors, replicas: (color: Color) => (color === 'green' ? replicas : []) };
  const run = runPreflight(
    gatesNamed(DEFAULT_PREFLIGHT_GATES),
    { from: 'blue', to: 'green', colors, clock: fakeClock(), timing: DEFAULT_SWITCH_TIMING, facts },
    quorum,
  );
  return run.then((result) => ({ ...result, facts }));
}

describe('the preflight on a color of replicas', () => {
  it('given every replica healthy, runs each gate on each replica and passes, saying so per replica', async () => {
    const run = await preflightOn([replica('green', 200), replica('green-2', 200), replica('green-3', 200)], 'all');
    expect(run.ok).toBe(true);
    expect(run.results.map((result) => [result.name, result.ok])).toEqual([
      ['health-streak', true],
      ['predict', true],
      ['signature', true],
      ['replicas', true],
    ]);
    expect(run.results[0]?.observed).toMatch(/^green: .* \| green-2: .* \| green-3: /);
    expect(run.results.at(-1)).toMatchObject({
      observed: '3 of 3 replicas of green passed every gate',
      expected: 'all 3 replicas of green pass every gate',
    });
    expect(run.facts.target?.version).toBe(VERSION);
  });

  it('given one replica down, refuses when all must pass, naming the replica and what it showed', async () => {
    const run = await preflightOn([replica('green', 200), replica('green-2', 'down')], 'all');
    expect(run.ok).toBe(false);
    expect(run.failure).toMatchObject({ name: 'health-streak', ok: false });
    expect(run.failure?.observed).toContain('green-2: green /health (check 1 of 3) no answer');
    // As with one process, the results end at the first failure.
    expect(run.results.map((result) => result.name)).toEqual(['health-streak']);
  });

  it('given one replica of three down, passes when the spec asks for two (mustPass: 2), and refuses below that', async () => {
    const oneDown = [replica('green', 200), replica('green-2', 503), replica('green-3', 200)];
    const run = await preflightOn(oneDown, 2);
    expect(run.ok).toBe(true);
    expect(run.results.at(-1)).toMatchObject({ ok: true, observed: '2 of 3 replicas of green passed every gate (not: green-2)' });
    const twoDown = await preflightOn([replica('green', 200), replica('green-2', 503), replica('green-3', 'down')], 2);
    expect(twoDown.ok).toBe(false);
  });

  it('given replicas that serve different models (a release stopped half way), refuses even though each passes on its own', async () => {
    const run = await preflightOn([replica('green', 200), replica('green-2', 200, 'v0.9.0')], 'all');
    expect(run.results.slice(0, 3).every((result) => result.ok)).toBe(true);
    expect(run.failure).toMatchObject({
      name: 'replicas',
      observed: 'the replicas of green serve different models: green v1.1.0 (sha256 x), green-2 v0.9.0 (sha256 x)',
    });
  });

  it('runs a color-scoped gate (the prediction diff) once, on the color as a whole, after the replicas passed', async () => {
    const seen: string[] = [];
    const whole: Gate = {
      name: 'whole-color',
      scope: 'color',
      async run({ to, colors }) {
        seen.push(`${to} ${(colors.replicas?.(to) ?? []).length} replicas`);
        return passed(this.name, 'compared the color as a whole', 'a comparison');
      },
    };
    const backend = fakeBackend({
      live: 'blue',
      colors: { blue: { version: 'v1.0.0', featureCount: 1 }, green: { version: VERSION, featureCount: 1 } },
    });
    const replicas = [replica('green', 200), replica('green-2', 200)];
    const run = await runPreflight(
      [...gatesNamed(['health-streak']), whole],
      {
        from: 'blue',
        to: 'green',
        colors: { ...backend.colors, replicas: (color: Color) => (color === 'green' ? replicas : []) },
        clock: fakeClock(),
        timing: DEFAULT_SWITCH_TIMING,
        facts: {},
      },
      'all',
    );
    expect(run.results.map((result) => result.name)).toEqual(['health-streak', 'replicas', 'whole-color']);
    expect(seen).toEqual(['green 2 replicas']);
  });

  it('given a color of one replica (or none listed), runs the gates on the color as before', async () => {
    const run = await preflightOn([], 'all');
    expect(run.results.map((result) => result.name)).toEqual(['health-streak', 'predict', 'signature']);
    expect(run.ok).toBe(true);
  });
});
