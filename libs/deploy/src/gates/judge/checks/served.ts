import { bucketQuantile } from '../../analysis/served';
import { median, quantileOfSorted } from '../stats/order';
import type { ColorWindow } from '../window';

/**
 * What the checks read of a color's traffic, the same whether the window has each request (nginx's
 * access log) or only counters and a latency histogram (Prometheus). With a histogram the counts
 * are exact and latencies are known to their bucket: the rank test sees ties within a bucket, and
 * the p99 ceiling counts an answer as over it unless its bucket says it was not (missing precision
 * can fail a canary, never pass one).
 */

/** Its requests and how many were answered 5xx. */
export function errorCounts(color: ColorWindow): { readonly events: number; readonly total: number } {
  if (color.counted) return { events: color.counted.errors, total: color.counted.requests };
  return { events: color.served.filter((served) => served.status >= 500).length, total: color.served.length };
}

/** The latencies of its answers that were not 5xx (errors are the error checks' business: a 502 is fast). */
export interface Latencies {
  /** One value per answer, for rank tests: each answer's time, or its bucket's upper bound (ties within a bucket). */
  readonly values: Float64Array;
  /** How many answers took longer than `ms` (with buckets: every answer not known to have taken at most `ms`). */
  above(ms: number): number;
  /** The `fraction` quantile in ms (with buckets: interpolated inside the bucket, as Prometheus' histogram_quantile). */
  quantile(fraction: number): number | null;
  /** The median in ms (of each answer: the mean of the two middle ones for an even count). */
  median(): number | null;
  /** Whether each answer's own time is known. */
  readonly exact: boolean;
}

export function latencies(color: ColorWindow): Latencies {
  const { counted } = color;
  if (!counted) {
    const values = Float64Array.from(color.served.filter((served) => served.status < 500).map((served) => served.ms)).sort();
    return {
      values,
      above: (ms) => values.length - upperIndex(values, ms),
      quantile: (fraction) => quantileOfSorted(values, fraction) ?? null,
      median: () => median(Array.from(values)),
      exact: true,
    };
  }
  const { boundsMs, cumulative } = counted.latency;
  const total = cumulative.at(-1) ?? 0;
  const buckets = boundsMs.map((bound, index) => [bound, cumulative[index] ?? 0] as const);
  const quantile = (fraction: number) => bucketQuantile(fraction, buckets);
  const values = new Float64Array(total);
  let filled = 0;
  boundsMs.forEach((bound, index) => {
    const upTo = Math.min(total, cumulative[index] ?? filled);
    // The +Inf bucket's answers rank above every finite one.
    values.fill(bound === Infinity ? Number.MAX_VALUE : bound, filled, upTo);
    filled = Math.max(filled, upTo);
  });
  return {
    values,
    above: (ms) => {
      let known = 0;
      boundsMs.forEach((bound, index) => {
        if (bound <= ms) known = cumulative[index] ?? known;
      });
      return total - known;
    },
    quantile,
    median: () => quantile(0.5),
    exact: false,
  };
}

/** How many of the sorted `values` are at most `ms`. */
function upperIndex(values: Float64Array, ms: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((values[middle] ?? 0) <= ms) low = middle + 1;
    else high = middle;
  }
  return low;
}
