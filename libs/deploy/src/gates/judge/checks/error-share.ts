import { fisherGreater } from '../stats/fisher';
import type { Check } from './check';
import { percent } from './format';
import { errorCounts } from './served';

/** The canary's 5xx share against the stable's on the same window: Fisher's exact test, one-sided. */
export const errorShareCheck: Check = {
  name: 'error-share',
  aspect: 'errors',
  measure({ canary, stable }, limits) {
    const c = errorCounts(canary);
    const s = errorCounts(stable);
    const share = (count: typeof c) => (count.total === 0 ? null : count.events / count.total);
    const difference = share(c) === null || share(s) === null ? null : (share(c) ?? 0) - (share(s) ?? 0);
    return {
      test: "Fisher's exact test, one-sided (canary 5xx share above the stable's)",
      statistic: c.events,
      pValue: fisherGreater(c, s),
      effect: {
        name: "canary's 5xx share minus the stable's",
        value: difference,
        limit: limits.maxErrorRateAboveStable,
        exceeded: difference !== null && difference > limits.maxErrorRateAboveStable,
      },
      samples: { canary: c.total, stable: s.total, minimum: limits.minRequests },
      enough: c.total >= limits.minRequests && s.total >= limits.minRequests,
      observed: `${canary.color} ${c.events} of ${c.total} 5xx (${percent(share(c))}), ${stable.color} ${s.events} of ${s.total} (${percent(share(s))})`,
      expected: `not significantly above the stable's share by more than ${percent(limits.maxErrorRateAboveStable)}`,
      hint: `The canary ${canary.color} answers 5xx more often than ${stable.color}: see its log (the state folder's logs/).`,
    };
  },
};
