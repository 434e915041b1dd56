import { LineBuffer, parseAccessLines } from './access-log';
import { judge, percentile, sampleOf } from './analysis';
import { delta, requestTotals } from './metrics';

const limits = {
  minRequests: 10,
  maxErrorRate: 0.01,
  maxErrorRateAboveStable: 0.005,
  maxP99Ms: 500,
  maxP99Ratio: 1.5,
  p99RatioFloorMs: 20,
};
const line = (fields: Record<string, unknown>) =>
  JSON.stringify({
    time: 't',
    request_id: 'r',
    status: 200,
    request_time: 0.002,
    upstream_addr: 'unix:/run/live-slot-00/r1.sock',
    color: 'blue',
    ...fields,
  });

describe('the canary analysis', () => {
  it("attributes nginx's own 5xx (no X-Color) to the color the slot link pointed at", () => {
    const text = [
      line({}),
      line({ status: 503, color: '', upstream_addr: 'unix:/tmp/x/run/live-slot-07/r2.sock', request_time: 0 }),
      line({ status: 413, color: '', upstream_addr: '' }),
      'not json',
    ].join('\n');
    const samples = parseAccessLines(text, (link) => (link === 'live-slot-07' ? 'green' : undefined));
    expect(samples).toEqual([
      { color: 'blue', status: 200, ms: 2 },
      { color: 'green', status: 503, ms: 0 },
    ]);
  });

  it('keeps a line cut at the end of a read for the next read', () => {
    const buffer = new LineBuffer();
    expect(buffer.push('{"a":1}\n{"b"')).toBe('{"a":1}\n');
    expect(buffer.push(':2}\n')).toBe('{"b":2}\n');
  });

  it('is inconclusive, never a pass, with too few requests from either color', () => {
    const samples = Array.from({ length: 20 }, () => ({ color: 'blue' as const, status: 200, ms: 2 }));
    const result = judge(
      sampleOf(
        'green',
        samples.slice(0, 3).map((sample) => ({ ...sample, color: 'green' as const })),
        null,
      ),
      sampleOf('blue', samples, null),
      limits,
    );
    expect(result.verdict).toBe('inconclusive');
    expect(result.checks.find((check) => !check.ok)).toMatchObject({
      name: 'traffic-canary',
      observed: '3 requests to green (canary): too little traffic to judge',
      expected: 'at least 10 requests answered by the canary color through nginx',
    });
  });

  it('fails a canary whose 5xx share or p99 breaks a limit, naming the values and the thresholds', () => {
    const stable = sampleOf(
      'blue',
      Array.from({ length: 100 }, () => ({ color: 'blue' as const, status: 200, ms: 10 })),
      null,
    );
    const erroring = sampleOf(
      'green',
      Array.from({ length: 100 }, (_, index) => ({ color: 'green' as const, status: index < 5 ? 503 : 200, ms: 10 })),
      null,
    );
    const failedChecks = judge(erroring, stable, limits)
      .checks.filter((check) => !check.ok)
      .map((check) => `${check.name}: ${check.observed} / ${check.expected}`);
    expect(failedChecks).toEqual([
      'error-rate: green answered 5 of 100 with 5xx (5.00%) / at most 1.00% 5xx',
      "error-rate-vs-stable: green 5.00% 5xx, blue (stable) 0.00% / at most the stable's + 0.50% = 0.50%",
    ]);
    const slow = sampleOf(
      'green',
      Array.from({ length: 100 }, () => ({ color: 'green' as const, status: 200, ms: 40 })),
      null,
    );
    expect(
      judge(slow, stable, limits)
        .checks.filter((check) => !check.ok)
        .map((check) => check.expected),
    ).toEqual(["at most 1.5x the stable's p99, never below 20 ms: 20.0 ms"]);
    expect(
      judge(
        sampleOf(
          'green',
          stable.requests ? Array.from({ length: 100 }, () => ({ color: 'green' as const, status: 200, ms: 12 })) : [],
          null,
        ),
        stable,
        limits,
      ).verdict,
    ).toBe('pass');
  });

  it('takes the 99th percentile by nearest rank', () => {
    expect(
      percentile(
        Array.from({ length: 100 }, (_, index) => index + 1),
        0.99,
      ),
    ).toBe(99);
    expect(percentile([], 0.99)).toBe(null);
  });

  it("sums a color's http_requests_total without its own /metrics scrapes, and subtracts readings", () => {
    const text = [
      '# HELP x',
      'http_requests_total{route="/predict",method="POST",status="200"} 90',
      'http_requests_total{route="/predict",method="POST",status="500"} 3',
      'http_requests_total{route="/metrics",method="GET",status="200"} 7',
    ].join('\n');
    expect(requestTotals(text)).toEqual({ requests: 93, errors: 3 });
    expect(delta({ requests: 50, errors: 1 }, { requests: 93, errors: 3 })).toEqual({ requests: 43, errors: 2 });
    expect(delta({ requests: 500, errors: 1 }, { requests: 93, errors: 3 })).toEqual({ requests: 93, errors: 3 });
  });
});
