import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

type RequestLabel = 'route' | 'method' | 'status';

/** Buckets for a service whose typical answer takes well under a millisecond. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** prom-client's storage of one label set of a histogram (what `zero(labels)` creates and scrapes read). */
interface HistogramEntry {
  readonly labels: object;
  readonly bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

/**
 * One label set of a histogram, observed without prom-client's per-call label validation and hashing
 * (about 1 µs per call, measured): the entry is found once and then updated in place, as prom-client's
 * own `observe` updates it. Scrapes read it as usual. Not for histograms that are ever `reset()`.
 */
class HistogramSeries {
  private readonly entry: HistogramEntry;
  /** The bucket keys as prom-client stores them (strings), so observing converts no number. */
  private readonly keys: readonly string[];

  constructor(
    histogram: Histogram<string>,
    private readonly bounds: readonly number[],
    labels: Partial<Record<string, string>> = {},
  ) {
    const hashMap = (histogram as unknown as { hashMap: Record<string, HistogramEntry> }).hashMap;
    if (Object.keys(labels).length > 0) histogram.zero(labels);
    const entry = Object.values(hashMap).find((candidate) => Object.keys(labels).length === 0 || candidate.labels === labels);
    if (!entry || bounds.some((bound) => !(String(bound) in entry.bucketValues))) {
      throw new Error('prom-client histogram storage is not what MetricsService expects; check the prom-client version');
    }
    this.entry = entry;
    this.keys = bounds.map(String);
  }

  get count(): number {
    return this.entry.count;
  }

  observe(seconds: number): void {
    const entry = this.entry;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= bounds[i]) {
        entry.bucketValues[this.keys[i]] += 1;
        break;
      }
    }
    entry.sum += seconds;
    entry.count += 1;
  }
}

interface RequestSeries {
  readonly labels: Record<RequestLabel, string>;
  readonly duration: HistogramSeries;
}

/** Prometheus metrics of one app instance (its own registry, so test apps do not collide). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  /** Request series in the order they were first seen, and by route, method and status (no key string per request). */
  private readonly requestSeries: RequestSeries[] = [];
  private readonly seriesByRoute = new Map<string, Map<string, Map<number, RequestSeries>>>();

  private readonly requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
    // Each series counts what its duration histogram counted: set at scrape time, not per request.
    collect: () => {
      this.requests.reset();
      for (const { labels, duration } of this.requestSeries) this.requests.inc(labels, duration.count);
    },
  });

  private readonly requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to response, by route, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  private readonly inferenceDuration = new Histogram({
    name: 'model_inference_duration_seconds',
    help: 'Time spent in onnxruntime for one batched inference.',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly inferenceSeries = new HistogramSeries(this.inferenceDuration, LATENCY_BUCKETS);

  private readonly modelInfo = new Gauge({
    name: 'model_info',
    help: 'The model this process serves (always 1), labelled with its version, color and file sha256.',
    labelNames: ['version', 'color', 'sha256'] as const,
    registers: [this.registry],
  });

  private readonly retiredConnections = new Counter({
    name: 'router_connections_retired_total',
    help: "nginx's kept connections answered with Connection: close because the socket link they came through no longer points at this color.",
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  setModelInfo(labels: { version: string; color: string; sha256: string }): void {
    this.modelInfo.reset();
    this.modelInfo.set(labels, 1);
  }

  /** One kept connection from nginx retired (lifecycle/route-retirement.ts): it closes after this answer. */
  countRetiredConnection(): void {
    this.retiredConnections.inc();
  }

  /** Starts timing one inference; call the result when it ends. */
  startInferenceTimer(): () => void {
    const start = performance.now();
    return () => this.inferenceSeries.observe((performance.now() - start) / 1000);
  }

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    let byMethod = this.seriesByRoute.get(route);
    if (!byMethod) this.seriesByRoute.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) {
      const labels = { route, method, status: String(status) };
      series = { labels, duration: new HistogramSeries(this.requestDuration, LATENCY_BUCKETS, labels) };
      byStatus.set(status, series);
      this.requestSeries.push(series);
    }
    series.duration.observe(seconds);
  }
}
