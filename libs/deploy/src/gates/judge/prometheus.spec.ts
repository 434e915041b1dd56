import { negatedSlopeVerdict } from '../../testing/judge-traffic';
import { judgeMetrics } from './prometheus';

describe("the judge's last verdict for Prometheus", () => {
  const last = negatedSlopeVerdict();

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
