import { DeploymentSpec } from '../../spec/deployment-spec';
import { seededRandom, simulatedWindow } from '../../testing/judge-traffic';
import { judgeInterval } from './judge';
import { judgeLimits } from './limits';
import { judgeMetrics } from './prometheus';

const negated = (row: readonly number[]) => [-4.97 * (row[0] ?? 0) - 1.95];
const honest = (row: readonly number[]) => [4.97 * (row[0] ?? 0) - 1.95];
const bodies = [[[1]], [[2]], [[3], [4]], [[0.5]]];

describe("the judge's last verdict for Prometheus", () => {
  const judgement = judgeInterval(
    simulatedWindow({
      canary: negated,
      stable: honest,
      canarySize: { requests: 100, rows: 400 },
      stableSize: { requests: 100, rows: 400 },
      traffic: { bodies, errorShare: 0, medianMs: 2 },
      random: seededRandom(5),
    }),
    judgeLimits(DeploymentSpec.parse({})),
  );
  const last = {
    judgement,
    canary: 'green',
    stable: 'blue',
    canaryVersion: 'v1.0.1',
    stableVersion: 'v1.0.0',
    weight: 5,
    judgedAt: 1_700_000_000_000,
  } as const;

  it('says which check failed, with its p-value, effect and samples', async () => {
    const text = await judgeMetrics(last);
    expect(text).toContain('mlbg_canary_judge_verdict{verdict="fail"} 1');
    expect(text).toContain('mlbg_canary_check_verdict{check="output-distribution",aspect="outputs",verdict="fail"} 1');
    expect(text).toContain('mlbg_canary_check_verdict{check="error-share",aspect="errors",verdict="pass"} 1');
    expect(text).toContain('mlbg_canary_check_verdict{check="error-share",aspect="errors",verdict="fail"} 0');
    expect(text).toMatch(/^mlbg_canary_check_adjusted_p_value\{check="output-distribution"\} [0-9.e-]+$/m);
    expect(text).toMatch(/^mlbg_canary_check_samples\{check="output-distribution",color="canary"\} \d{3}$/m);
    expect(text).toContain('mlbg_canary_check_effect_limit{check="output-distribution"} 0.1');
    expect(text).toContain('mlbg_canary_judge_info{canary="green",stable="blue",canary_version="v1.0.1",stable_version="v1.0.0"} 1');
    expect(text).toContain('mlbg_canary_judge_timestamp_seconds 1700000000');
  });

  it('is empty before a first verdict', async () => {
    expect(await judgeMetrics(null)).toBe('');
  });
});
