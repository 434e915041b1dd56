import { LineBuffer, parseAccessLines } from './access-log';
import { percentile, sampleOf } from './analysis';
import { delta, requestTotals } from './metrics';

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

  it("sums a color's requests, 5xx and p99 from the access-log samples", () => {
    const samples = [
      { color: 'green' as const, status: 200, ms: 3 },
      { color: 'green' as const, status: 502, ms: 0 },
      { color: 'blue' as const, status: 200, ms: 9 },
    ];
    expect(sampleOf('green', samples, null)).toEqual({ color: 'green', requests: 2, errors: 1, errorRate: 0.5, p99Ms: 3, metrics: null });
    expect(sampleOf('blue', [], { requests: 4, errors: 0 })).toMatchObject({ requests: 0, errorRate: null, p99Ms: null });
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
