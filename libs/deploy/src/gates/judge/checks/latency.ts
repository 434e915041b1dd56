import { mannWhitneyGreater } from '../stats/mann-whitney';
import { median } from '../stats/order';
import type { JudgeWindow } from '../window';
import type { Check } from './check';
import { short } from './format';

/** What clients waited for answers that were not 5xx (errors are the error checks' business: a 502 is fast). */
export function answeredMs(color: JudgeWindow['canary']): number[] {
  return color.served.filter((served) => served.status < 500).map((served) => served.ms);
}

/**
 * The canary's latencies against the stable's on the same window: the Mann-Whitney U test,
 * one-sided, with the ratio of the medians as its effect size (and a floor in ms, so 2 ms against
 * 1 ms is no failure).
 */
export const latencyCheck: Check = {
  name: 'latency',
  aspect: 'latency',
  measure({ canary, stable }, limits) {
    const c = answeredMs(canary);
    const s = answeredMs(stable);
    const enough = c.length >= limits.minRequests && s.length >= limits.minRequests;
    const test = enough ? mannWhitneyGreater(c, s) : null;
    const [cm, sm] = [median(c), median(s)];
    const ratio = cm !== null && sm !== null && sm > 0 ? cm / sm : null;
    const exceeded = cm !== null && sm !== null && cm > Math.max(sm * limits.maxMedianRatio, sm + limits.medianFloorMs);
    return {
      test: 'Mann-Whitney U test, one-sided (canary slower)',
      statistic: test?.u ?? null,
      pValue: test?.pValue ?? null,
      effect: { name: "canary's median over the stable's", value: ratio, limit: limits.maxMedianRatio, exceeded },
      samples: { canary: c.length, stable: s.length, minimum: limits.minRequests },
      enough,
      observed: `median ${canary.color} ${short(cm)} ms, ${stable.color} ${short(sm)} ms${ratio === null ? '' : ` (x${short(ratio)})`}`,
      expected: `not significantly slower by more than x${limits.maxMedianRatio} (or ${limits.medianFloorMs} ms)`,
      hint: `The canary ${canary.color} is slower than ${stable.color}: measure it (tools/bench) or give it the same resources.`,
    };
  },
};
