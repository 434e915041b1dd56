/** Resolution of the latency histogram: 10 µs, so sub-millisecond p99s are visible (autocannon's own is 1 ms). */
const BUCKET_MS = 0.01;
/** Latencies above this are counted in the last bucket (and still in `maxMs`). */
const RANGE_MS = 10_000;

/** Percentiles of a load run's response times, in milliseconds. */
export interface LatencySummary {
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/** A fixed-bucket latency histogram: constant time per response, percentiles at the end. */
export class LatencyHistogram {
  private readonly counts = new Uint32Array(Math.ceil(RANGE_MS / BUCKET_MS) + 1);
  private total = 0;
  private sumMs = 0;
  private maxMs = 0;

  record(ms: number): void {
    const index = Math.min(this.counts.length - 1, Math.floor(ms / BUCKET_MS));
    this.counts[index] += 1;
    this.total += 1;
    this.sumMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** The upper edge of the bucket holding the p-th percentile (p in 0..100). */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.ceil((p / 100) * this.total);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(this.maxMs, round((i + 1) * BUCKET_MS));
    }
    return this.maxMs;
  }

  summary(): LatencySummary {
    return {
      p50Ms: this.percentile(50),
      p90Ms: this.percentile(90),
      p99Ms: this.percentile(99),
      maxMs: round(this.maxMs),
      meanMs: this.total === 0 ? 0 : round(this.sumMs / this.total),
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
