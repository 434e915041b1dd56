import { type Color, JudgeResult } from '@mlbg/contract';
import type { ColorAccess } from '../../gates/gate';
import { DEFAULT_CANARY_ANALYSIS } from '../../spec/canary-spec';
import { answer, fakeClock } from '../../testing/fakes';
import { JUDGE_EXIT, judgeColors } from './judge';

/** Two colors in memory: each answers /predict with `slope * x` (its version), or `status` every `every`-th request. */
function colors(behaviour: Record<Color, { slope: number; status?: number; every?: number }>): ColorAccess & { seen: string[] } {
  const counts: Record<Color, number> = { blue: 0, green: 0 };
  const seen: string[] = [];
  return {
    seen,
    health: async () => answer(200, {}),
    predict: async () => answer(200, {}),
    recorded: () => undefined,
    async request(color, call) {
      seen.push(`${color} ${call.headers?.['X-Request-Id']} ${call.headers?.['x-mlbg-shadow']}`);
      const { slope, status, every } = behaviour[color];
      counts[color] += 1;
      if (status && every && counts[color] % every === 0) return answer(status, { detail: 'broken' });
      const rows = (JSON.parse(call.body ?? '{}') as { features: number[][] }).features;
      return answer(200, { predictions: rows.map(([x]) => slope * (x ?? 0)), model_version: `v${slope}` });
    },
  };
}

const settings = {
  bodies: ['{"features": [[1]]}', '{"features": [[2], [3]]}'],
  requests: 120,
  analysis: DEFAULT_CANARY_ANALYSIS,
  diff: { tolerance: { absolute: 1e-6, relative: 1e-6 }, minAgreement: 0.99, minPairs: 50 },
};
const targets = { stable: 'blue', canary: 'green', where: { blue: 'http://ml-live:80', green: 'http://ml-preview:80' } } as const;
const deps = { clock: fakeClock(), progress: () => undefined };

describe('judgeColors (colors in memory)', () => {
  it('passes two colors that answer alike; each pair shares a request id and is marked as a replay, never live traffic', async () => {
    const both = colors({ blue: { slope: 2 }, green: { slope: 2 } });
    const result = await judgeColors(both, targets, settings, deps);
    expect(JudgeResult.parse(result)).toEqual(result);
    expect(result).toMatchObject({ verdict: 'pass', requests: 120, diff: { pairs: 120 }, diffProblems: [] });
    expect(result.analysis.canary.requests).toBe(120);
    const [first] = both.seen;
    expect(first).toMatch(/^(blue|green) judge-\w{8}-\d+ replay$/);
    expect(both.seen.filter((line) => line.endsWith(first?.split(' ')[1] + ' replay'))).toHaveLength(2);
  });

  it('fails a canary whose answers differ, on the answers alone', async () => {
    const result = await judgeColors(colors({ blue: { slope: 2 }, green: { slope: -2 } }), targets, settings, deps);
    expect(result.verdict).toBe('fail');
    expect(JUDGE_EXIT[result.verdict]).toBe(1);
    expect(result.analysis.checks.filter((check) => !check.ok)).toEqual([]);
    expect(result.reasons).toEqual([expect.stringMatching(/^answers: 0\.0% of pairs within tolerance/)]);
  });

  it('fails a canary that answers 5xx, on the error checks', async () => {
    const result = await judgeColors(colors({ blue: { slope: 2 }, green: { slope: 2, status: 503, every: 5 } }), targets, settings, deps);
    expect(result.verdict).toBe('fail');
    expect(result.analysis.canary.errors).toBe(24);
    expect(result.reasons.map((reason) => reason.split(':')[0])).toEqual(['error-rate', 'error-rate-vs-stable']);
  });

  it('is inconclusive, never a pass, below the minimum of requests (exit 3)', async () => {
    const result = await judgeColors(colors({ blue: { slope: 2 }, green: { slope: 2 } }), targets, { ...settings, requests: 20 }, deps);
    expect(result.verdict).toBe('inconclusive');
    expect(JUDGE_EXIT[result.verdict]).toBe(3);
    expect(result.reasons.join(' ')).toContain('too little traffic to judge');
  });
});
