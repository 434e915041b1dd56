import { HISTORY_SCHEMA_VERSION, lastCanary, lastSuccessfulSwitch, parseHistory } from './history';

const stamp = { schemaVersion: HISTORY_SCHEMA_VERSION, time: '2026-12-01T10:00:00.000Z', user: 'ci', backend: 'local', durationMs: 10 };
const canary = (outcome: string, weight: number) => ({
  ...stamp,
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

describe('canary lines in the history', () => {
  it('are read back, and the last canary is its start and its end', () => {
    const history = parseHistory(
      [canary('started', 0), canary('rolled-back', 0), canary('started', 0)].map((entry) => JSON.stringify(entry)).join('\n'),
    );
    expect(history.skippedLines).toEqual([]);
    expect(lastCanary(history.entries, 'local')).toEqual({
      started: expect.objectContaining({ outcome: 'started', resumed: false, intervals: [] }),
    });
  });

  it('count a promoted canary as the switch a rollback returns from', () => {
    const history = parseHistory([canary('started', 0), canary('promoted', 100)].map((entry) => JSON.stringify(entry)).join('\n'));
    expect(lastSuccessfulSwitch(history.entries, 'local')).toMatchObject({
      command: 'switch',
      from: 'blue',
      to: 'green',
      fromVersion: 'v1.0.0',
      toVersion: 'v1.1.0',
      outcome: 'switched',
    });
    const rolledBack = parseHistory([canary('started', 0), canary('rolled-back', 0)].map((entry) => JSON.stringify(entry)).join('\n'));
    expect(lastSuccessfulSwitch(rolledBack.entries, 'local')).toBe(undefined);
  });
});
