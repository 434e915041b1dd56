import hypergeometricCdf from '@stdlib/stats-base-dists-hypergeometric-cdf';

/** How many of a group's requests had the event (e.g. a 5xx), of how many. */
export interface Count {
  readonly events: number;
  readonly total: number;
}

/**
 * Fisher's exact test, one-sided: is the share of events in `first` larger than in `second`?
 * With the 2x2 table's margins fixed, `first`'s events are hypergeometric (population = both
 * groups, successes = all events, draws = `first`'s size), so p = P(X >= observed).
 * The distribution is stdlib's; the test itself is these lines, because no maintained JavaScript
 * package has Fisher's test.
 */
export function fisherGreater(first: Count, second: Count): number {
  if (first.events === 0) return 1;
  const population = first.total + second.total;
  const events = first.events + second.events;
  return clamp01(1 - hypergeometricCdf(first.events - 1, population, events, first.total));
}

/** 1 - cdf can come out a hair below 0 (or above 1) in floating point. */
export function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}
