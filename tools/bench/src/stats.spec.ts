import { LatencyHistogram } from './latency';
import type { RunMeasurement } from './result';
import { median, pairedRatio, summarise } from './stats';

function run(requestsPerSecond: number, extra: Partial<RunMeasurement> = {}): RunMeasurement {
  return {
    requests: requestsPerSecond,
    durationSeconds: 1,
    requestsPerSecond,
    latency: { p50Ms: 1, p90Ms: 2, p99Ms: requestsPerSecond / 1000, maxMs: 9, meanMs: 1 },
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    resets: 0,
    statuses: { '200': requestsPerSecond },
    serverCpuUsPerRequest: 100,
    proxyCpuUsPerRequest: null,
    loadCpuUsPerRequest: 50,
    ...extra,
  };
}

describe('stats', () => {
  it('median', () => {
    expect(median([])).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });

  it('pairs runs made back to back, so a drift of the machine cancels out', () => {
    // The machine got twice as slow halfway: the ratio of medians would be 1.5, the paired one is 0.9.
    const service = [run(900), run(900), run(450)];
    const baseline = [run(1000), run(500), run(500)];
    expect(pairedRatio(service, baseline, (item) => item.requestsPerSecond)).toBeCloseTo(0.9);
  });

  it('summarises runs with medians and sums the failures', () => {
    const summary = summarise([run(100), run(300, { non2xx: 2, errors: 1 }), run(200)]);
    expect(summary).toMatchObject({
      requestsPerSecond: 200,
      latencyP99Ms: 0.2,
      latencyP99MaxMs: 0.3,
      requests: 600,
      failures: { non2xx: 2, errors: 1, timeouts: 0, resets: 0 },
    });
  });
});

describe('LatencyHistogram', () => {
  it('reports percentiles at 10 µs resolution, as the upper edge of their bucket', () => {
    const histogram = new LatencyHistogram();
    for (let i = 1; i <= 100; i++) histogram.record(i / 100 + 0.005); // 0.015 .. 1.005 ms
    expect(histogram.summary()).toEqual({ p50Ms: 0.51, p90Ms: 0.91, p99Ms: 1, maxMs: 1.005, meanMs: 0.51 });
    expect(new LatencyHistogram().summary().p99Ms).toBe(0);
  });
});
