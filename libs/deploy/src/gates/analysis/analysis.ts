import type { Color } from '@mlbg/contract';
import { type GateResult, failed, passed } from '../gate';
import type { AccessSample } from './access-log';
import type { RequestTotals } from './metrics';
import { sampleOfServed } from './served';

/** The limits of one interval's analysis (the spec's `canary.analysis`). */
export interface AnalysisThresholds {
  readonly minRequests: number;
  readonly maxErrorRate: number;
  readonly maxErrorRateAboveStable: number;
  readonly maxP99Ms: number;
  readonly maxP99Ratio: number;
  readonly p99RatioFloorMs: number;
}

/** One color's numbers over an interval. */
export interface ColorSample {
  readonly color: Color;
  readonly requests: number;
  readonly errors: number;
  readonly errorRate: number | null;
  readonly p99Ms: number | null;
  readonly metrics: RequestTotals | null;
}

export type Verdict = 'pass' | 'fail' | 'inconclusive';

export interface Analysis {
  readonly verdict: Verdict;
  readonly canary: ColorSample;
  readonly stable: ColorSample;
  readonly checks: readonly GateResult[];
}

export { percentile } from './served';

/** A color's numbers from the access-log samples (5xx = an error, nginx's own included). Pure. */
export function sampleOf(color: Color, samples: readonly AccessSample[], metrics: RequestTotals | null): ColorSample {
  return sampleOfServed(color, { kind: 'requests', requests: samples, own: metrics });
}

const percent = (rate: number | null) => (rate === null ? 'n/a' : `${(100 * rate).toFixed(2)}%`);
const ms = (value: number | null) => (value === null ? 'n/a' : `${value} ms`);

/**
 * Judges one interval. Too few requests from either color is `inconclusive`, never a pass: the
 * caller waits or probes. Every check names its measured value and its threshold. Pure.
 */
export function judge(canary: ColorSample, stable: ColorSample, limits: AnalysisThresholds): Analysis {
  const checks: GateResult[] = [];
  const enough = (sample: ColorSample, role: string): boolean => {
    const expected = `at least ${limits.minRequests} requests answered by the ${role} color through nginx`;
    const observed = `${sample.requests} requests to ${sample.color} (${role})`;
    if (sample.requests >= limits.minRequests) {
      checks.push(passed(`traffic-${role}`, observed, expected));
      return true;
    }
    checks.push(
      failed(
        `traffic-${role}`,
        `${observed}: too little traffic to judge`,
        expected,
        'Send traffic, or set canary.lowTraffic to "probe" with probes.samples in deploy/deployment.json.',
      ),
    );
    return false;
  };
  const canaryEnough = enough(canary, 'canary');
  const stableEnough = enough(stable, 'stable');
  if (!canaryEnough || !stableEnough) return { verdict: 'inconclusive', canary, stable, checks };

  const rate = canary.errorRate ?? 0;
  const stableRate = stable.errorRate ?? 0;
  const hint = `The canary ${canary.color} is worse than allowed; see its log in the state folder's logs/.`;
  const check = (name: string, ok: boolean, observed: string, expected: string) =>
    checks.push(ok ? passed(name, observed, expected) : failed(name, observed, expected, hint));

  check(
    'error-rate',
    rate <= limits.maxErrorRate,
    `${canary.color} answered ${canary.errors} of ${canary.requests} with 5xx (${percent(rate)})`,
    `at most ${percent(limits.maxErrorRate)} 5xx`,
  );
  const rateLimit = stableRate + limits.maxErrorRateAboveStable;
  check(
    'error-rate-vs-stable',
    rate <= rateLimit,
    `${canary.color} ${percent(rate)} 5xx, ${stable.color} (stable) ${percent(stableRate)}`,
    `at most the stable's + ${percent(limits.maxErrorRateAboveStable)} = ${percent(rateLimit)}`,
  );
  const p99 = canary.p99Ms ?? 0;
  check('p99', p99 <= limits.maxP99Ms, `${canary.color} p99 ${ms(canary.p99Ms)}`, `at most ${limits.maxP99Ms} ms`);
  const ratioLimit = Math.max((stable.p99Ms ?? 0) * limits.maxP99Ratio, limits.p99RatioFloorMs);
  check(
    'p99-vs-stable',
    p99 <= ratioLimit,
    `${canary.color} p99 ${ms(canary.p99Ms)}, ${stable.color} (stable) p99 ${ms(stable.p99Ms)}`,
    `at most ${limits.maxP99Ratio}x the stable's p99, never below ${limits.p99RatioFloorMs} ms: ${ratioLimit.toFixed(1)} ms`,
  );
  if (canary.metrics && canary.metrics.requests > 0) {
    const ownRate = canary.metrics.errors / canary.metrics.requests;
    check(
      'error-rate-own-metrics',
      ownRate <= limits.maxErrorRate,
      `${canary.color}'s /metrics: ${canary.metrics.errors} of ${canary.metrics.requests} answered 5xx (${percent(ownRate)})`,
      `at most ${percent(limits.maxErrorRate)} 5xx`,
    );
  }
  return { verdict: checks.every((item) => item.ok) ? 'pass' : 'fail', canary, stable, checks };
}
