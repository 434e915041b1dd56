import { type Color, JudgeResult } from '@mlbg/contract';
import type { ColorAccess } from '../../gates/gate';
import { judgeLimits } from '../../gates/judge/limits';
import { DeploymentSpec } from '../../spec/deployment-spec';
import { answer, fakeClock } from '../../testing/fakes';
import { JUDGE_EXIT, judgeBySending } from './judge-sent';

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

const limits = judgeLimits(DeploymentSpec.parse({}));
/** Enough of each color for every check's minimum (one row per body at worst). */
const requests = 2 * Math.max(limits.minRequests, limits.outputs?.minOutputs ?? 0);
const settings = { bodies: ['{"features": [[1]]}', '{"features": [[2], [3]]}', '{"features": [[4]]}'], requests, limits };
const targets = { stable: 'blue', canary: 'green', where: { blue: 'http://ml-live:80', green: 'http://ml-preview:80' } } as const;
const deps = { clock: fakeClock(), progress: () => undefined };
const failed = (result: JudgeResult) => result.judgement.checks.filter((check) => check.verdict === 'fail').map((check) => check.name);

describe('judgeBySending (colors in memory)', () => {
  it('passes two colors that answer alike; each pair shares a request id and is marked as a replay, never live traffic', async () => {
    const both = colors({ blue: { slope: 2 }, green: { slope: 2 } });
    const result = await judgeBySending(both, targets, settings, deps);
    expect(JudgeResult.parse(result)).toEqual(result);
    expect(result).toMatchObject({ source: 'sent', requests, canaryVersion: 'v2', stableVersion: 'v2', judgement: { verdict: 'pass' } });
    expect(result.judgement.checks.find((check) => check.name === 'paired-agreement')?.samples.canary).toBe(requests);
    const [first] = both.seen;
    expect(first).toMatch(/^(blue|green) judge-\w{8}-\d+ replay$/);
    expect(both.seen.filter((line) => line.endsWith(first?.split(' ')[1] + ' replay'))).toHaveLength(2);
  });

  it('fails a canary whose answers differ, on the answers alone', async () => {
    const result = await judgeBySending(colors({ blue: { slope: 2 }, green: { slope: -2 } }), targets, settings, deps);
    expect(result.judgement.verdict).toBe('fail');
    expect(JUDGE_EXIT[result.judgement.verdict]).toBe(1);
    expect(failed(result)).toEqual(['output-distribution', 'paired-agreement']);
  });

  it('passes answers that differ when the change is declared (--expect-output-change): shown, not counted', async () => {
    const declared = { ...settings, limits: judgeLimits(DeploymentSpec.parse({}), { expectOutputChange: true }) };
    const result = await judgeBySending(colors({ blue: { slope: 2 }, green: { slope: -2 } }), targets, declared, deps);
    expect(result.judgement.verdict).toBe('pass');
    expect(result.judgement.checks.filter((check) => check.verdict === 'waived').map((check) => check.name)).toEqual([
      'output-distribution',
      'paired-agreement',
    ]);
  });

  it('fails a canary that answers 5xx, on the error checks', async () => {
    const result = await judgeBySending(
      colors({ blue: { slope: 2 }, green: { slope: 2, status: 503, every: 5 } }),
      targets,
      settings,
      deps,
    );
    expect(result.judgement.verdict).toBe('fail');
    expect(failed(result)).toEqual(expect.arrayContaining(['error-share', 'error-ceiling']));
    expect(failed(result)).not.toContain('output-distribution');
  });

  it('is inconclusive, never a pass, below the minimum of requests (exit 3)', async () => {
    const result = await judgeBySending(colors({ blue: { slope: 2 }, green: { slope: 2 } }), targets, { ...settings, requests: 20 }, deps);
    expect(result.judgement.verdict).toBe('inconclusive');
    expect(JUDGE_EXIT[result.judgement.verdict]).toBe(3);
    expect(result.judgement.checks.every((check) => check.verdict === 'inconclusive')).toBe(true);
  });
});
