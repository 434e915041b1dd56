import type { Color } from '@mlbg/contract';
import type { AccessSample } from './access-log';
import type { RequestTotals } from './metrics';

/** One color's numbers over an interval. */
export interface ColorSample {
  readonly color: Color;
  readonly requests: number;
  readonly errors: number;
  readonly errorRate: number | null;
  readonly p99Ms: number | null;
  readonly metrics: RequestTotals | null;
}

/** Nearest-rank percentile of `values` (ms); null when empty. Pure. */
export function percentile(values: readonly number[], fraction: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? null;
}

/** A color's numbers from the access-log samples (5xx = an error, nginx's own included). Pure. */
export function sampleOf(color: Color, samples: readonly AccessSample[], metrics: RequestTotals | null): ColorSample {
  const mine = samples.filter((sample) => sample.color === color);
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
    metrics,
  };
}
