import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

type RequestLabel = 'route' | 'method' | 'status';

/** Buckets for a service whose typical answer takes well under a millisecond. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Prometheus metrics of one app instance (its own registry, so test apps do not collide). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
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

  private readonly modelInfo = new Gauge({
    name: 'model_info',
    help: 'The model this process serves (always 1), labelled with its version, color and file sha256.',
    labelNames: ['version', 'color', 'sha256'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  setModelInfo(labels: { version: string; color: string; sha256: string }): void {
    this.modelInfo.reset();
    this.modelInfo.set(labels, 1);
  }

  /** Starts timing one inference; call the result when it ends. */
  startInferenceTimer(): () => void {
    return this.inferenceDuration.startTimer();
  }

  /** Label children by "route method status": looking them up once keeps label hashing off the hot path. */
  private readonly requestSeries = new Map<string, { count: Counter.Internal; duration: Histogram.Internal<RequestLabel> }>();

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const key = `${route} ${method} ${status}`;
    let series = this.requestSeries.get(key);
    if (!series) {
      const labels = { route, method, status: String(status) };
      series = { count: this.requests.labels(labels), duration: this.requestDuration.labels(labels) };
      this.requestSeries.set(key, series);
    }
    series.count.inc();
    series.duration.observe(seconds);
  }
}
