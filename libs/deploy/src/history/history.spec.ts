import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type MoveEntry,
  appendHistory,
  lastAttempt,
  lastSuccessfulSwitch,
  moves,
  parseHistory,
  readHistory,
  skippedLinesNote,
} from './history';
import { parseState } from '../backends/local/stack/state';
import { planRollback, planSwitch } from '../commands/switch/switch-plan';

const entry = (patch: Partial<MoveEntry>): MoveEntry => ({
  schemaVersion: 2,
  time: '2026-01-01T00:00:00.000Z',
  user: 'ci',
  backend: 'local',
  command: 'switch',
  from: 'blue',
  to: 'green',
  fromVersion: 'v1.0.0',
  toVersion: 'v1.1.0',
  outcome: 'switched',
  durationMs: 500,
  gates: [],
  ...patch,
});

/** A line exactly as the first format (before schema versions) wrote it. */
const LEGACY_LINE =
  '{"time":"2026-11-26T10:00:00.000Z","user":"ci","target":"compose","command":"switch","from":"blue","to":"green","fromVersion":"v1.0.0","toVersion":"v1.1.0","outcome":"switched","durationMs":812}';

describe('history.jsonl', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlbg-history-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('parses one entry per line and reports the unreadable lines instead of failing', () => {
    const text = [
      JSON.stringify(entry({})),
      'not json',
      '',
      JSON.stringify({ ...entry({}), outcome: 'exploded' }),
      JSON.stringify(entry({ to: 'blue', from: 'green' })),
    ].join('\n');
    const history = parseHistory(text, 'h.jsonl');
    expect(moves(history.entries, 'local').map((item) => item.to)).toEqual(['green', 'blue']);
    expect(history.skippedLines).toEqual([2, 4]);
    expect(skippedLinesNote(history)).toBe(
      'h.jsonl: line(s) 2, 4 can not be read and were skipped (cut short by a killed command, or edited by hand); they are left as they are. Fix or delete those lines to silence this.',
    );
  });

  it('reads a line of the first format as the current one (target becomes backend, no gates)', () => {
    const [migrated] = parseHistory(LEGACY_LINE).entries;
    expect(migrated).toEqual({
      schemaVersion: 2,
      time: '2026-11-26T10:00:00.000Z',
      user: 'ci',
      backend: 'compose',
      command: 'switch',
      from: 'blue',
      to: 'green',
      fromVersion: 'v1.0.0',
      toVersion: 'v1.1.0',
      outcome: 'switched',
      durationMs: 812,
      gates: [],
    });
    expect(planRollback(parseHistory(LEGACY_LINE).entries, 'compose', 'green')).toMatchObject({
      kind: 'switch',
      to: 'blue',
      expectVersion: 'v1.0.0',
    });
  });

  it('appends whole lines and reads them back; a missing file is an empty history', () => {
    const file = join(dir, 'history.jsonl');
    expect(readHistory(file)).toEqual({ file, entries: [], skippedLines: [] });
    appendHistory(file, entry({}));
    appendHistory(file, entry({ outcome: 'refused', reason: 'green /health answered 503' }));
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(3);
    expect(readHistory(file).entries[1]).toMatchObject({ outcome: 'refused', reason: 'green /health answered 503' });
  });

  it('keeps a line cut short by a killed command apart: the next entry starts on a line of its own', () => {
    const file = join(dir, 'history.jsonl');
    writeFileSync(file, `${LEGACY_LINE}\n{"time":"2026-11-26T10:05:00.000Z","user":"ci","tar`);
    appendHistory(file, entry({ from: 'green', to: 'blue' }));
    const history = readHistory(file);
    expect(history.skippedLines).toEqual([2]);
    expect(moves(history.entries, 'compose')).toHaveLength(1);
    expect(moves(history.entries, 'local')).toEqual([expect.objectContaining({ from: 'green', to: 'blue' })]);
    expect(readFileSync(file, 'utf8')).toContain('"tar\n{');
  });

  // A one-page tmpfs (root only): the line is written in part, then ENOSPC.
  const canMount = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;
  (canMount ? it : it.skip)(
    'cuts off a line a full disk took in part, so a failed append leaves the file as it was (a one-page tmpfs; needs root, skipped otherwise)',
    () => {
      const mountPoint = join(dir, 'tiny');
      mkdirSync(mountPoint);
      expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'tmpfs', mountPoint]).status).toBe(0);
      try {
        const file = join(mountPoint, 'history.jsonl');
        const first = `${JSON.stringify(entry({}))}\n`;
        // The page filled up to a few bytes short of its end with whole lines (and a blank one to pad).
        writeFileSync(
          file,
          `${first.repeat(Math.floor(4000 / first.length))}${' '.repeat(4000 - first.length * Math.floor(4000 / first.length))}\n`,
        );
        const before = readFileSync(file, 'utf8');
        let failure: unknown;
        try {
          appendHistory(file, entry({ outcome: 'refused', reason: 'x'.repeat(500) }));
        } catch (error) {
          failure = error;
        }
        expect((failure as NodeJS.ErrnoException).code).toBe('ENOSPC');
        expect(readFileSync(file, 'utf8')).toBe(before);
        expect(readHistory(file).entries.every((item) => item.outcome === 'switched')).toBe(true);
      } finally {
        spawnSync('umount', [mountPoint]);
      }
    },
  );

  it('refuses to write an entry that is not valid, writing nothing', () => {
    const file = join(dir, 'history.jsonl');
    expect(() => appendHistory(file, { ...entry({}), outcome: 'exploded' } as unknown as MoveEntry)).toThrow();
    expect(existsSync(file)).toBe(false);
  });

  it('finds the last successful switch and the last attempt per target', () => {
    const entries = [
      entry({ from: 'blue', to: 'green' }),
      entry({ from: 'green', to: 'blue', backend: 'compose' }),
      entry({ from: 'green', to: 'blue', outcome: 'refused' }),
    ];
    expect(lastSuccessfulSwitch(entries, 'local')).toBe(entries[0]);
    expect(lastSuccessfulSwitch(entries, 'compose')).toBe(entries[1]);
    expect(lastAttempt(entries, 'local')).toBe(entries[2]);
    expect(lastSuccessfulSwitch([], 'local')).toBeUndefined();
  });
});

describe('choosing the target', () => {
  it('toggles without a color, and is a no-op for the live color', () => {
    expect(planSwitch('blue')).toEqual({ kind: 'switch', from: 'blue', to: 'green' });
    expect(planSwitch('green')).toEqual({ kind: 'switch', from: 'green', to: 'blue' });
    expect(planSwitch('blue', 'green')).toEqual({ kind: 'switch', from: 'blue', to: 'green' });
    expect(planSwitch('green', 'green')).toEqual({ kind: 'noop', color: 'green' });
  });

  it('rolls back to the color live before the last successful switch, at the version it ran then', () => {
    const entries = [entry({ from: 'blue', to: 'green', fromVersion: 'v1.0.0' }), entry({ from: 'green', to: 'blue', outcome: 'refused' })];
    expect(planRollback(entries, 'local', 'green')).toMatchObject({ kind: 'switch', from: 'green', to: 'blue', expectVersion: 'v1.0.0' });
  });

  it('says there is nothing to roll back without a successful switch on that target', () => {
    expect(planRollback([], 'local', 'blue')).toEqual({
      kind: 'nothing',
      reason: 'the history has no successful switch on the local stack yet',
    });
    expect(planRollback([entry({ backend: 'compose' }), entry({ outcome: 'reverted' })], 'local', 'blue').kind).toBe('nothing');
  });

  it('is a no-op when the previous color is live again already', () => {
    expect(planRollback([entry({ from: 'blue', to: 'green' })], 'local', 'blue')).toMatchObject({ kind: 'noop', color: 'blue' });
  });
});

describe('state.json', () => {
  const V1 = (live: string) => `{"schemaVersion":1,"live":"${live}","models":{"green":"models/v1.1.0/model.onnx"},"running":null}`;

  it('tells a corrupt file from a valid one, naming the problem', () => {
    expect(parseState('{"schemaVersion":1', 'state.json')).toMatchObject({
      kind: 'corrupt',
      problem: expect.stringMatching(/^not valid JSON/),
    });
    expect(parseState(V1('red'), 'state.json')).toMatchObject({ kind: 'corrupt', problem: expect.stringMatching(/^live: /) });
    expect(
      parseState(
        '{"schemaVersion":2,"routes":{"live":{"blue":60,"green":60},"preview":{"blue":0,"green":100}},"models":{},"running":null}',
        'state.json',
      ),
    ).toMatchObject({
      kind: 'corrupt',
      problem: 'routes.live: the weights of blue and green must add up to 100',
    });
  });

  it('reads a file of the first format (one live color) as routes with weights', () => {
    expect(parseState(V1('green'), 'state.json')).toEqual({
      kind: 'ok',
      file: 'state.json',
      state: {
        schemaVersion: 2,
        routes: { live: { blue: 0, green: 100 }, preview: { blue: 100, green: 0 } },
        models: { green: 'models/v1.1.0/model.onnx' },
        running: null,
      },
    });
  });

  it('refuses a file written by a newer deploy tool instead of guessing', () => {
    expect(parseState('{"schemaVersion":3,"whatever":true}', 'state.json')).toEqual({
      kind: 'corrupt',
      file: 'state.json',
      problem: 'written by a newer deploy tool (schemaVersion 3; this one reads up to 2)',
    });
  });
});
