import type { Color } from '@mlbg/contract';
import type { AccessSample } from './access-log';
import type { ColorSample } from './analysis';
import type { RequestTotals } from './metrics';

/**
 * What one color served over one window, as exactly as its backend can see it. The judge is the
 * same for both kinds; what it can judge is not (see {@link sampleOfServed}).
 */
export type ServedTraffic =
  /** Each request, as the router logged it (nginx's access log), and the color's own totals (/metrics) beside them. */
  | { readonly kind: 'requests'; readonly requests: readonly AccessSample[]; readonly own: RequestTotals | null }
  /**
   * Counts only, from the color's own histograms (Prometheus): its requests, its 5xx answers, and
   * how long its answers that were not 5xx took, in buckets. What the router answered by itself
   * (a gateway's 503 when no pod is ready) is not in them.
   */
  | { readonly kind: 'histogram'; readonly requests: number; readonly errors: number; readonly latency: LatencyBuckets };

/** Latencies in buckets, as a Prometheus histogram keeps them: `cumulative[i]` answers took at most `boundsMs[i]` (the last bound is Infinity). */
export interface LatencyBuckets {
  readonly boundsMs: readonly number[];
  readonly cumulative: readonly number[];
}

/** Prometheus' histogram_quantile: linear inside the bucket that holds the rank. Bounds in seconds or ms; the answer in the same unit. Pure. */
export function bucketQuantile(q: number, cumulative: readonly (readonly [number, number])[]): number | null {
  const total = cumulative.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of cumulative) {
    if (count >= rank) {
      // The +Inf bucket has no upper bound: answer the highest finite one, as Prometheus does.
      if (le === Infinity) return lowerBound;
      const inBucket = count - lowerCount;
      return lowerBound + (le - lowerBound) * (inBucket > 0 ? (rank - lowerCount) / inBucket : 1);
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}

/** Nearest-rank percentile of `values` (ms); null when empty. Pure. */
export function percentile(values: readonly number[], fraction: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? null;
}

/**
 * A color's numbers over a window. Per request: exact (5xx = an error, the router's own 502/504
 * included). From a histogram: the counts are exact, the p99 is interpolated inside its bucket (as
 * Prometheus' histogram_quantile does) and rounded to a whole ms. Pure.
 */
export function sampleOfServed(color: Color, served: ServedTraffic): ColorSample {
  if (served.kind === 'requests') {
    const mine = served.requests.filter((sample) => sample.color === color);
    const errors = mine.filter((sample) => sample.status >= 500).length;
    return {
      color,
      requests: mine.length,
      errors,
      errorRate: mine.length === 0 ? null : errors / mine.length,
      p99Ms: percentile(
        mine.map((sample) => sample.ms),
        0.99,
      ),
      metrics: served.own,
    };
  }
  const { boundsMs, cumulative } = served.latency;
  const p99 = bucketQuantile(
    0.99,
    boundsMs.map((bound, index) => [bound, cumulative[index] ?? 0] as const),
  );
  return {
    color,
    requests: served.requests,
    errors: served.errors,
    errorRate: served.requests === 0 ? null : served.errors / served.requests,
    p99Ms: p99 === null ? null : Math.round(p99),
    metrics: null,
  };
}
