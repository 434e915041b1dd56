import { binomialP } from '../stats/binomial';
import type { Check } from './check';
import { percent } from './format';
import { errorCounts } from './served';

/** The canary's 5xx share against the spec's ceiling: the exact binomial test, one-sided. */
export const errorCeilingCheck: Check = {
  name: 'error-ceiling',
  aspect: 'errors',
  measure({ canary }, limits) {
    const { events: errors, total } = errorCounts(canary);
    const share = total === 0 ? null : errors / total;
    return {
      test: 'exact binomial test, one-sided (5xx share above the ceiling)',
      statistic: errors,
      pValue: binomialP(errors, total, limits.maxErrorRate, 'greater'),
      effect: {
        name: "canary's 5xx share",
        value: share,
        limit: limits.maxErrorRate,
        exceeded: share !== null && share > limits.maxErrorRate,
      },
      samples: { canary: total, stable: null, minimum: limits.minRequests },
      enough: total >= limits.minRequests,
      observed: `${canary.color} ${errors} of ${total} 5xx (${percent(share)})`,
      expected: `not significantly above ${percent(limits.maxErrorRate)}`,
      hint: `The canary ${canary.color} answers too many 5xx: see its log (the state folder's logs/).`,
    };
  },
};
