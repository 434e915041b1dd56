import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HistoryEntry, appendHistory, lastAttempt, lastSuccessfulSwitch, parseHistory, readHistory } from './history';
import { parseState } from '../backends/local/state';
import { planRollback, planSwitch } from '../routing/plan';

const entry = (patch: Partial<HistoryEntry>): HistoryEntry => ({
  time: '2026-01-01T00:00:00.000Z',
  user: 'ci',
  target: 'local',
  command: 'switch',
  from: 'blue',
  to: 'green',
  fromVersion: 'v1.0.0',
  toVersion: 'v1.1.0',
  outcome: 'switched',
  durationMs: 500,
  ...patch,
});

describe('history.jsonl', () => {
  it('parses one entry per line and reports the unreadable lines instead of failing', () => {
    const text = [JSON.stringify(entry({})), 'not json', '', JSON.stringify({ ...entry({}), outcome: 'exploded' }), JSON.stringify(entry({ to: 'blue', from: 'green' }))].join('\n');
    const history = parseHistory(text);
    expect(history.entries.map((item) => item.to)).toEqual(['green', 'blue']);
    expect(history.skippedLines).toEqual([2, 4]);
  });

  it('appends whole lines and reads them back; a missing file is an empty history', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlbg-history-'));
    try {
      const file = join(dir, 'history.jsonl');
      expect(readHistory(file)).toEqual({ entries: [], skippedLines: [] });
      appendHistory(file, entry({}));
      appendHistory(file, entry({ outcome: 'refused', reason: 'green /health answered 503' }));
      expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(3);
      expect(readHistory(file).entries[1]).toMatchObject({ outcome: 'refused', reason: 'green /health answered 503' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds the last successful switch and the last attempt per target', () => {
    const entries = [
      entry({ from: 'blue', to: 'green' }),
      entry({ from: 'green', to: 'blue', target: 'compose' }),
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
    expect(planRollback([], 'local', 'blue')).toEqual({ kind: 'nothing', reason: 'the history has no successful switch on the local stack yet' });
    expect(planRollback([entry({ target: 'compose' }), entry({ outcome: 'reverted' })], 'local', 'blue').kind).toBe('nothing');
  });

  it('is a no-op when the previous color is live again already', () => {
    expect(planRollback([entry({ from: 'blue', to: 'green' })], 'local', 'blue')).toMatchObject({ kind: 'noop', color: 'blue' });
  });
});

describe('state.json', () => {
  it('tells a corrupt file from a valid one, naming the problem', () => {
    expect(parseState('{"schemaVersion":1', 'state.json')).toMatchObject({ kind: 'corrupt', problem: expect.stringMatching(/^not valid JSON/) });
    expect(parseState('{"schemaVersion":1,"live":"red","models":{},"running":null}', 'state.json')).toMatchObject({
      kind: 'corrupt',
      problem: expect.stringMatching(/^live: /),
    });
    expect(parseState('{"schemaVersion":1,"live":"green","models":{},"running":null}', 'state.json')).toMatchObject({ kind: 'ok', state: { live: 'green' } });
  });
});
