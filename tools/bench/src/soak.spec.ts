import { DEFAULT_SOAK, parseSoakOptions } from './soak';
import { type SoakEvent, attributeFailures, soakMarkdown, soakResult } from './soak-report';
import type { PhaseReport } from './soak-load-worker';

const latency = { p50Ms: 2, p90Ms: 4, p99Ms: 9.5, maxMs: 30, meanMs: 3 };
const phase = (name: string, startedAt: number, requests: number, kinds: Record<string, number> = {}): PhaseReport => ({
  phase: name,
  startedAt,
  endedAt: startedAt + 10_000,
  requests,
  failed: Object.values(kinds).reduce((sum, count) => sum + count, 0),
  kinds,
  versions: { 'v1.0.0': requests },
  latency,
});
const event = (kind: SoakEvent['kind'], startedAt: number, what: string, outcome: string, ok = true): SoakEvent => ({
  kind,
  startedAt,
  endedAt: startedAt + 1_000,
  what,
  ok,
  outcome,
});

describe('the soak', () => {
  it("takes the issue's numbers by default and refuses options it can not run", () => {
    expect(parseSoakOptions([])).toEqual(DEFAULT_SOAK);
    expect(DEFAULT_SOAK).toMatchObject({ requests: 1_000_000, switches: 100, kills: 20, replicas: 2 });
    expect(parseSoakOptions(['--requests=20000', '--switches=4', '--kills=3', '--canary-steps=50,100'])).toMatchObject({
      requests: 20_000,
      switches: 4,
      kills: 3,
      canarySteps: [50, 100],
    });
    expect(() => parseSoakOptions(['--replicas=1'])).toThrow('--replicas must be a whole number of at least 2');
    expect(() => parseSoakOptions(['--canary-steps=5,25'])).toThrow('ending at 100');
    expect(() => parseSoakOptions(['--switch=3'])).toThrow('unknown option(s): --switch=3');
  });

  it('lays each failed request at the door of the event it happened during or within 2 s after, else at none', () => {
    const events = [event('switch', 10_000, 'blue -> green', 'switched'), event('kill', 20_000, 'green-2', 'restarted')];
    const rows = attributeFailures(
      [
        { at: 10_500, waitedMs: 3, kind: 'LIVE_UNAVAILABLE' },
        { at: 21_900, waitedMs: 3, kind: 'ECONNRESET' },
        { at: 21_950, waitedMs: 3, kind: 'ECONNRESET' },
        { at: 40_000, waitedMs: 3, kind: 'HTTP 500' },
      ],
      events,
    );
    expect(rows.map((row) => [row.event, row.failed, row.kinds])).toEqual([
      ['switch blue -> green', 1, { LIVE_UNAVAILABLE: 1 }],
      ['kill green-2', 2, { ECONNRESET: 2 }],
      ['none (no event near it)', 1, { 'HTTP 500': 1 }],
    ]);
  });

  it('is complete only with a million requests, 100 switched switches, 20 kills and both canaries as planned', () => {
    const switches = Array.from({ length: 100 }, (_, index) => event('switch', 1_000 + index, 'toggle', 'switched'));
    const kills = Array.from({ length: 20 }, (_, index) => event('kill', 5_000 + index, `blue-${index}`, 'restarted'));
    const canaries = [event('canary', 9_000, 'canary of green', 'promoted'), event('canary', 9_500, 'canary of blue', 'rolled-back')];
    const input = {
      date: '2026-12-07T00:00:00.000Z',
      cores: 2,
      loadAverageAtStart: 0.5,
      clients: 32,
      replicas: 2,
      phases: [phase('switches', 0, 600_000), phase('steady', 10_000, 400_000)],
      failures: [],
      failuresDropped: 0,
      events: [...switches, ...kills, ...canaries],
    };
    const result = soakResult(input);
    expect(result).toMatchObject({ requests: 1_000_000, failed: 0, complete: true, switches: { attempted: 100, switched: 100 } });
    expect(result.kills.count).toBe(20);
    expect(soakMarkdown(result)).toContain('- Requests: 1,000,000 in 20 s (50,000 req/s); failed: 0.');
    expect(soakMarkdown(result)).toContain('No request failed.');
    expect(soakResult({ ...input, events: [...switches.slice(1), ...kills, ...canaries] }).complete).toBe(false);
    expect(soakResult({ ...input, events: [...switches, ...kills, canaries[0] as SoakEvent] }).complete).toBe(false);
    const lossy = soakResult({ ...input, phases: [phase('switches', 0, 1_000_000, { LIVE_UNAVAILABLE: 3 })] });
    expect(soakMarkdown(lossy)).toContain('failed: 3 (LIVE_UNAVAILABLE 3)');
    expect(soakMarkdown(lossy)).toContain('| switches | 10.0 | 1,000,000 | 100,000 | 3 (LIVE_UNAVAILABLE 3) | 2.0 | 9.5 | 30.0 |');
  });
});
