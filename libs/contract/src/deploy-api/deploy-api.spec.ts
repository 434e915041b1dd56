import {
  type CanaryOutcome,
  type HistoryEntry,
  HISTORY_SCHEMA_VERSION,
  HistoryEntry as HistoryEntrySchema,
  SwitchResult,
  cliEnvelope,
  cliOutput,
  describeWeights,
  lastCanary,
  mainTarget,
  soleTarget,
} from '../index';

const stamp = {
  schemaVersion: HISTORY_SCHEMA_VERSION,
  time: '2026-12-01T10:00:00.000Z',
  user: 'ci',
  backend: 'local',
  durationMs: 10,
} as const;

function canary(outcome: CanaryOutcome, weight = 0, backend: 'local' | 'compose' = 'local'): HistoryEntry {
  return HistoryEntrySchema.parse({
    ...stamp,
    backend,
    command: 'canary',
    outcome,
    stable: 'blue',
    canary: 'green',
    stableVersion: 'v1.0.0',
    canaryVersion: 'v1.1.0',
    steps: [25, 100],
    intervalMs: 30_000,
    weight,
    routes: { live: { blue: 100 - weight, green: weight }, preview: { blue: 0, green: 100 } },
  });
}

describe('lastCanary: the one reading of the history that the server and the page share', () => {
  it('is the last start and its end; an earlier canary is over', () => {
    const [first, rolledBack, second, promoted] = [
      canary('started'),
      canary('rolled-back'),
      canary('started', 25),
      canary('promoted', 100),
    ];
    expect(lastCanary([first, rolledBack, second], 'local')).toEqual({ started: second });
    expect(lastCanary([first, rolledBack, second, promoted], 'local')).toEqual({ started: second, end: promoted });
  });

  it('ends with the latest line after the start: kept, then aborted from elsewhere, is aborted', () => {
    const [started, kept, aborted] = [canary('started'), canary('kept', 25), canary('aborted')];
    expect(lastCanary([started, kept], 'local')).toEqual({ started, end: kept });
    expect(lastCanary([started, kept, aborted], 'local')).toEqual({ started, end: aborted });
  });

  it('never takes a refused start for a canary: it is reported apart when it is the newest line', () => {
    const [started, promoted, refused] = [canary('started'), canary('promoted', 100), canary('refused')];
    expect(lastCanary([refused], 'local')).toEqual({ refused });
    expect(lastCanary([started, promoted, refused], 'local')).toEqual({ started, end: promoted, refused });
    // A resume the preflight refused: the interrupted canary is still the one that started, with no end.
    expect(lastCanary([started, refused], 'local')).toEqual({ started, refused });
    expect(lastCanary([refused, started], 'local')).toEqual({ started });
  });

  it("reads only the backend's own lines, and is undefined without a canary", () => {
    expect(lastCanary([canary('started', 0, 'compose')], 'local')).toBeUndefined();
    expect(lastCanary([], 'local')).toBeUndefined();
  });
});

describe('routes as people read them', () => {
  it('names the sole color, or every share of a split', () => {
    expect(describeWeights({ blue: 100, green: 0 })).toBe('blue 100%');
    expect(describeWeights({ blue: 75, green: 25 })).toBe('blue 75% / green 25%');
    expect([soleTarget({ blue: 0, green: 100 }), soleTarget({ blue: 50, green: 50 })]).toEqual(['green', undefined]);
    expect([mainTarget({ blue: 50, green: 50 }), mainTarget({ blue: 25, green: 75 })]).toEqual(['blue', 'green']);
  });
});

describe('the CLI envelope', () => {
  const switched = {
    kind: 'switched',
    from: 'blue',
    to: 'green',
    fromVersion: 'v1.0.0',
    toVersion: 'v1.1.0',
    gates: [{ name: 'health-streak', ok: true, observed: '3 x 200', expected: '3 x 200' }],
    routes: { live: { blue: 0, green: 100 }, preview: { blue: 100, green: 0 } },
  };

  it("takes a command's result, a failure's null, and a usage error", () => {
    const ok = { ok: true, command: 'switch', result: switched };
    expect(cliOutput('switch').parse(ok)).toEqual(ok);
    const locked = { ok: false, command: 'switch', result: null, error: { code: 'LOCKED', message: 'm', hint: 'h' } };
    expect(cliOutput('switch').parse(locked)).toEqual(locked);
    const usage = { ok: false, command: null, error: { code: 'USAGE', message: 'm', hint: 'h' } };
    expect(cliOutput('status').parse(usage)).toEqual(usage);
  });

  it("takes what a failed release --switch did as its result, and only a release's", () => {
    const release = {
      color: 'green',
      model: 'models/v1.1.0/model.onnx',
      previousModel: 'models/v1.0.0/model.onnx',
      previous: { model: 'models/v1.0.0/model.onnx', image: null },
      pid: 42,
      version: 'v1.1.0',
      featureCount: 1,
      modelSha256: 'abc',
      previewUrl: 'http://127.0.0.1:8080/preview/',
      live: { color: 'blue', version: 'v1.0.0', featureCount: 1 },
      notes: [],
      durationMs: 1200,
    };
    const refused = { ...switched, kind: 'refused', reason: 'green is not healthy' };
    const failed = {
      ok: false,
      command: 'release',
      result: { release, switch: refused },
      error: { code: 'PREFLIGHT_FAILED', message: 'm', hint: 'h' },
    };
    expect(cliOutput('release').parse(failed)).toEqual(failed);
    expect(cliOutput('switch').safeParse({ ...failed, command: 'switch' }).success).toBe(false);
  });

  it('is strict: a key nobody declared is drift, not data', () => {
    expect(SwitchResult.safeParse({ ...switched, extra: 1 }).success).toBe(false);
    expect(cliEnvelope(SwitchResult).safeParse({ ok: true, command: 'switch', result: switched, extra: 1 }).success).toBe(false);
    expect(cliOutput('switch').safeParse({ ok: true, command: 'switch', result: { ...switched, routes: undefined } }).success).toBe(false);
  });
});
