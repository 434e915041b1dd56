import { Counter, Histogram, Registry } from 'prom-client';
import { MetricsService } from './metrics.service';

/** The same metrics kept the plain prom-client way, to compare the scraped text with. */
function reference() {
  const registry = new Registry();
  const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
  const labelNames = ['route', 'method', 'status'] as const;
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route, method and status code.',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to response, by route, method and status code.',
    labelNames,
    buckets,
    registers: [registry],
  });
  const inference = new Histogram({
    name: 'model_inference_duration_seconds',
    help: 'Time spent in onnxruntime for one batched inference.',
    buckets,
    registers: [registry],
  });
  return {
    registry,
    observeRequest(route: string, method: string, status: number, seconds: number) {
      const labels = { route, method, status: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
    observeInference: (seconds: number) => inference.observe(seconds),
  };
}

/** The scraped text of the request and inference metrics only (default process metrics vary). */
async function scraped(registry: Registry): Promise<string> {
  const names = ['http_requests_total', 'http_request_duration_seconds', 'model_inference_duration_seconds'];
  const parts = await Promise.all(names.map(async (name) => registry.getSingleMetricAsString(name)));
  return parts.join('\n');
}

describe('MetricsService', () => {
  it('scrapes exactly what plain prom-client metrics fed the same observations scrape', async () => {
    const metrics = new MetricsService();
    const plain = reference();
    expect(await scraped(metrics.registry)).toBe(await scraped(plain.registry));

    const seen: [string, string, number, number][] = [
      ['/predict', 'POST', 200, 0.0003],
      ['/predict', 'POST', 200, 0.0007],
      ['/health', 'GET', 200, 0.002],
      ['/predict', 'POST', 422, 0.0001],
      ['/predict', 'POST', 200, 3],
      ['unmatched', 'GET', 404, 0.0005],
      ['/predict', 'POST', 200, 0.0005],
    ];
    for (const [route, method, status, seconds] of seen) {
      metrics.observeRequest(route, method, status, seconds);
      plain.observeRequest(route, method, status, seconds);
    }
    for (const seconds of [0.00002, 0.0004, 0.03, 7]) plain.observeInference(seconds);
    // The service times inferences itself; feed it the same durations through the same series.
    const inferenceSeries = (metrics as unknown as { inferenceSeries: { observe(seconds: number): void } }).inferenceSeries;
    for (const seconds of [0.00002, 0.0004, 0.03, 7]) inferenceSeries.observe(seconds);

    const text = await scraped(metrics.registry);
    expect(text).toBe(await scraped(plain.registry));
    expect(text).toContain('http_requests_total{route="/predict",method="POST",status="200"} 4');
    // A second scrape counts the same (the counter is rebuilt from the histograms at each scrape).
    expect(await scraped(metrics.registry)).toBe(text);
  });

  it('times an inference', async () => {
    const metrics = new MetricsService();
    const stop = metrics.startInferenceTimer();
    stop();
    expect(await metrics.registry.getSingleMetricAsString('model_inference_duration_seconds')).toContain(
      'model_inference_duration_seconds_count 1',
    );
  });
});
