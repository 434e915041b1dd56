import { mannWhitneyGreater } from '../stats/mann-whitney';
import type { Check } from './check';
import { short } from './format';
import { latencies } from './served';

/**
 * The canary's latencies against the stable's on the same window: the Mann-Whitney U test,
 * one-sided, with the ratio of the medians as its effect size (and a floor in ms, so 2 ms against
 * 1 ms is no failure).
 */
export const latencyCheck: Check = {
  name: 'latency',
  aspect: 'latency',
  measure({ canary, stable }, limits) {
    const [c, s] = [latencies(canary), latencies(stable)];
    const enough = c.values.length >= limits.minRequests && s.values.length >= limits.minRequests;
    const test = enough ? mannWhitneyGreater(Array.from(c.values), Array.from(s.values)) : null;
    const [cm, sm] = [c.median(), s.median()];
    const ratio = cm !== null && sm !== null && sm > 0 ? cm / sm : null;
    const exceeded = cm !== null && sm !== null && cm > Math.max(sm * limits.maxMedianRatio, sm + limits.medianFloorMs);
    return {
      test: `Mann-Whitney U test, one-sided (canary slower)${c.exact && s.exact ? '' : ', on histogram buckets'}`,
      statistic: test?.u ?? null,
      pValue: test?.pValue ?? null,
      effect: { name: "canary's median over the stable's", value: ratio, limit: limits.maxMedianRatio, exceeded },
      samples: { canary: c.values.length, stable: s.values.length, minimum: limits.minRequests },
      enough,
      observed: `median ${canary.color} ${short(cm)} ms, ${stable.color} ${short(sm)} ms${ratio === null ? '' : ` (x${short(ratio)})`}`,
      expected: `not significantly slower by more than x${limits.maxMedianRatio} (or ${limits.medianFloorMs} ms)`,
      hint: `The canary ${canary.color} is slower than ${stable.color}: measure it (tools/bench) or give it the same resources.`,
    };
  },
};
