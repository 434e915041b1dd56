import type { TrafficPoint } from '@mlbg/contract';
import { bucketQuantile as quantileInBuckets } from '../gates/analysis/served';

/**
 * Traffic figures for the dashboard's charts, from two sources: each color's Prometheus text
 * (`/metrics`, prom-client's `http_requests_total` and `http_request_duration_seconds`) and nginx's
 * JSON access log (what clients saw). Pure: text in, numbers out.
 *
 * The parser is our own, small on purpose: it reads only the two families above from the text
 * format prom-client writes (one sample per line, no timestamps); prom-client has no parser and
 * the npm parsers are unmaintained.
 */

/** One chart point of one source over one interval (the contract's: the page draws it). */
export type { TrafficPoint } from '@mlbg/contract';

/** Routes that are the tooling's own polling, not model traffic (the dashboard itself asks them). */
const NOT_TRAFFIC = new Set(['/health', '/health/live', '/metrics', '/preview/health']);

/** Cumulative counts read from one scrape: requests, 5xx, and the latency buckets (upper bound in s -> count). */
export interface MetricsCounts {
  readonly requests: number;
  readonly errors: number;
  readonly buckets: ReadonlyMap<number, number>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Sums a scrape's model traffic (every route but the polling ones above). */
export function parseMetrics(text: string): MetricsCounts {
  let requests = 0;
  let errors = 0;
  const buckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const [, name, labelText = '', valueText = ''] = match;
    if (name !== 'http_requests_total' && name !== 'http_request_duration_seconds_bucket') continue;
    const labels = Object.fromEntries([...labelText.matchAll(LABEL)].map(([, key, value]) => [key, value]));
    if (NOT_TRAFFIC.has(labels['route'] ?? '')) continue;
    const value = Number(valueText);
    if (!Number.isFinite(value)) continue;
    if (name === 'http_requests_total') {
      requests += value;
      if (Number(labels['status']) >= 500) errors += value;
    } else {
      const le = labels['le'] === '+Inf' ? Infinity : Number(labels['le']);
      buckets.set(le, (buckets.get(le) ?? 0) + value);
    }
  }
  return { requests, errors, buckets };
}

/**
 * The point between two scrapes `seconds` apart. A counter that went down means the color
 * restarted: the later scrape alone is the interval's traffic (as Prometheus' rate() treats a reset).
 */
export function metricsPoint(before: MetricsCounts, after: MetricsCounts, seconds: number): TrafficPoint {
  const reset = after.requests < before.requests;
  const base = reset ? { requests: 0, errors: 0, buckets: new Map<number, number>() } : before;
  const requests = after.requests - base.requests;
  const errors = after.errors - base.errors;
  const buckets = [...after.buckets].map(([le, count]) => [le, count - (base.buckets.get(le) ?? 0)] as const).sort(([a], [b]) => a - b);
  return {
    rps: requests / seconds,
    errorShare: requests > 0 ? errors / requests : null,
    p50Ms: bucketQuantile(0.5, buckets),
    p99Ms: bucketQuantile(0.99, buckets),
  };
}

/** Prometheus' histogram_quantile over buckets whose bounds are seconds, in ms. */
export function bucketQuantile(q: number, cumulativeSeconds: readonly (readonly [number, number])[]): number | null {
  const seconds = quantileInBuckets(q, cumulativeSeconds);
  return seconds === null ? null : seconds * 1000;
}

/** One line of nginx's JSON access log (render/nginx: `log_format mlbg_json`), the fields used here. */
export interface AccessLine {
  readonly status: number;
  /** Seconds. */
  readonly requestTime: number;
  readonly color: string;
  readonly path: string;
}

/** A line of the access log, or undefined when it is not one (a torn line at the end of a read). */
export function parseAccessLine(line: string): AccessLine | undefined {
  try {
    const json = JSON.parse(line) as Record<string, unknown>;
    const status = Number(json['status']);
    const requestTime = Number(json['request_time']);
    if (!Number.isFinite(status) || !Number.isFinite(requestTime)) return undefined;
    const request = typeof json['request'] === 'string' ? json['request'] : '';
    const path = (request.split(' ')[1] ?? '').split('?')[0] ?? '';
    return { status, requestTime, color: typeof json['color'] === 'string' ? json['color'] : '', path };
  } catch {
    return undefined;
  }
}

/** The point of the access-log lines that arrived in one interval of `seconds` (exact quantiles: every request is there). */
export function accessPoint(lines: readonly AccessLine[], seconds: number): TrafficPoint {
  const traffic = lines.filter((line) => !NOT_TRAFFIC.has(line.path));
  const times = traffic.map((line) => line.requestTime * 1000).sort((a, b) => a - b);
  const rank = (q: number): number | null =>
    times.length === 0 ? null : (times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)] ?? null);
  return {
    rps: traffic.length / seconds,
    errorShare: traffic.length > 0 ? traffic.filter((line) => line.status >= 500).length / traffic.length : null,
    p50Ms: rank(0.5),
    p99Ms: rank(0.99),
  };
}
