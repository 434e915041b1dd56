import { binomialP } from '../stats/binomial';
import type { Check } from './check';
import { short } from './format';
import { latencies } from './served';

/** A p99 is the time 1% of the answers take longer than. */
const TAIL_SHARE = 0.01;

/**
 * The canary's p99 against the spec's ceiling, as a test: are significantly more than 1% of its
 * answers slower than the ceiling? (The exact binomial test, one-sided.) A p99 of a few dozen
 * requests is one slow request; the count above the ceiling is what can be tested.
 */
export const p99CeilingCheck: Check = {
  name: 'p99-ceiling',
  aspect: 'latency',
  measure({ canary }, limits) {
    const answered = latencies(canary);
    const total = answered.values.length;
    const slow = answered.above(limits.maxP99Ms);
    const p99 = answered.quantile(0.99);
    return {
      test: 'exact binomial test, one-sided (over 1% of answers above the ceiling)',
      statistic: slow,
      pValue: binomialP(slow, total, TAIL_SHARE, 'greater'),
      effect: { name: "canary's p99 (ms)", value: p99, limit: limits.maxP99Ms, exceeded: p99 !== null && p99 > limits.maxP99Ms },
      samples: { canary: total, stable: null, minimum: limits.minRequests },
      enough: total >= limits.minRequests,
      observed: `${canary.color} p99 ${short(p99)} ms; ${slow} of ${total} answers over ${limits.maxP99Ms} ms`,
      expected: `p99 not significantly above ${limits.maxP99Ms} ms`,
      hint: `The canary ${canary.color} has a slow tail: measure it (tools/bench) or raise canary.analysis.maxP99Ms if that is expected.`,
    };
  },
};
