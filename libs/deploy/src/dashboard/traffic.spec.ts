import { accessPoint, bucketQuantile, metricsPoint, parseAccessLine, parseMetrics } from './traffic';

/** Two scrapes of prom-client's text as the model service writes it (trimmed to the two families read). */
const scrape = (
  predict200: number,
  predict500: number,
  buckets: Record<string, number>,
) => `# HELP http_requests_total HTTP requests answered, by route, method and status code.
# TYPE http_requests_total counter
http_requests_total{route="/predict",method="POST",status="200"} ${predict200}
http_requests_total{route="/predict",method="POST",status="500"} ${predict500}
http_requests_total{route="/health",method="GET",status="200"} 999
# TYPE http_request_duration_seconds histogram
${Object.entries(buckets)
  .map(([le, count]) => `http_request_duration_seconds_bucket{le="${le}",route="/predict",method="POST",status="200"} ${count}`)
  .join('\n')}
http_request_duration_seconds_bucket{le="+Inf",route="/health",method="GET",status="200"} 999
http_request_duration_seconds_sum{route="/predict",method="POST",status="200"} 1.5
`;

describe('traffic figures for the charts', () => {
  it("reads model traffic from /metrics, leaving out the tooling's own /health polling", () => {
    const counts = parseMetrics(scrape(90, 10, { '0.001': 50, '0.01': 90, '+Inf': 100 }));
    expect(counts.requests).toBe(100);
    expect(counts.errors).toBe(10);
    expect([...counts.buckets]).toEqual([
      [0.001, 50],
      [0.01, 90],
      [Infinity, 100],
    ]);
  });

  it('turns two scrapes into req/s, error share and quantiles of the interval only', () => {
    const before = parseMetrics(scrape(90, 10, { '0.001': 50, '0.01': 90, '+Inf': 100 }));
    const after = parseMetrics(scrape(290, 10, { '0.001': 150, '0.01': 290, '+Inf': 300 }));
    const point = metricsPoint(before, after, 2);
    expect(point.rps).toBe(100);
    expect(point.errorShare).toBe(0);
    // 100 of the 200 new requests under 1 ms: the median is the top of the first bucket.
    expect(point.p50Ms).toBeCloseTo(1, 6);
    // Rank 198 of 200 lies in (1 ms, 10 ms], 98 of its 100: 1 + 9 * 0.98 ms.
    expect(point.p99Ms).toBeCloseTo(1 + 9 * 0.98, 6);
  });

  it('treats a counter that went down as a restarted color (the later scrape is the interval)', () => {
    const before = parseMetrics(scrape(1000, 0, { '0.001': 1000, '+Inf': 1000 }));
    const after = parseMetrics(scrape(20, 5, { '0.001': 25, '+Inf': 25 }));
    expect(metricsPoint(before, after, 1)).toMatchObject({ rps: 25, errorShare: 0.2 });
  });

  it('has no quantile for an interval without requests, and the highest finite bound for the +Inf bucket', () => {
    expect(bucketQuantile(0.5, [[Infinity, 0]])).toBeNull();
    expect(
      bucketQuantile(0.99, [
        [0.1, 1],
        [Infinity, 100],
      ]),
    ).toBeCloseTo(100, 6);
  });

  it("reads nginx's JSON access log lines and skips torn ones", () => {
    const line = (status: number, seconds: number, path = '/predict') =>
      JSON.stringify({ time: '2026-12-01T10:00:00+00:00', request: `POST ${path} HTTP/1.1`, status, request_time: seconds, color: 'blue' });
    const lines = [line(200, 0.001), line(200, 0.002), line(502, 0.004), line(200, 0.003), line(200, 0.5, '/health')]
      .map(parseAccessLine)
      .filter((parsed) => parsed !== undefined);
    expect(parseAccessLine('{"status":200,"request_ti')).toBeUndefined();
    const point = accessPoint(lines, 2);
    expect(point).toEqual({ rps: 2, errorShare: 0.25, p50Ms: 2, p99Ms: 4 });
  });
});
