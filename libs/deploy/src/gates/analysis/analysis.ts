import type { Color } from '@mlbg/contract';
import type { AccessSample } from './access-log';
import type { RequestTotals } from './metrics';
import { sampleOfServed } from './served';

/** One color's numbers over an interval. */
export interface ColorSample {
  readonly color: Color;
  readonly requests: number;
  readonly errors: number;
  readonly errorRate: number | null;
  readonly p99Ms: number | null;
  readonly metrics: RequestTotals | null;
}

export { percentile } from './served';

/** A color's numbers from the access-log samples (5xx = an error, nginx's own included). Pure. */
export function sampleOf(color: Color, samples: readonly AccessSample[], metrics: RequestTotals | null): ColorSample {
  return sampleOfServed(color, { kind: 'requests', requests: samples, own: metrics });
}
