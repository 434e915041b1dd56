import hypergeometricPmf from '@stdlib/stats-base-dists-hypergeometric-pmf';

/** How many of a group's requests had the event (e.g. a 5xx), of how many. */
export interface Count {
  readonly events: number;
  readonly total: number;
}

/**
 * Fisher's exact test, one-sided: is the share of events in `first` larger than in `second`?
 * With the 2x2 table's margins fixed, `first`'s events are hypergeometric (population = both
 * groups, successes = all events, draws = `first`'s size), so p = P(X >= observed), summed over
 * the upper tail of stdlib's hypergeometric PMF. Not 1 - CDF: stdlib's hypergeometric CDF
 * answers 0 instead of about 1 for large tables (cdf(2249, 9000, 2250, 2250), a crash-looping
 * canary's), which made such a canary pass. No maintained JavaScript package has Fisher's test.
 */
export function fisherGreater(first: Count, second: Count): number {
  if (first.events === 0) return 1;
  const population = first.total + second.total;
  const events = first.events + second.events;
  const top = Math.min(first.total, events);
  let p = 0;
  for (let x = first.events; x <= top; x++) p += hypergeometricPmf(x, population, events, first.total);
  return clamp01(p);
}

/** Sums of floating-point terms can come out a hair above 1. */
export function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}
