import pino from 'pino';
import { MetricsService } from '../metrics/metrics.service';
import { LogCapture } from '../testing/test-app';
import { createResponseObserver } from './response-observer';

function setup(logRequests: boolean, level = 'info') {
  const lines = new LogCapture();
  const logger = pino({ level, base: { color: 'blue' }, timestamp: false }, lines);
  const metrics = new MetricsService();
  return { lines: lines.lines, logger, metrics, observe: createResponseObserver(metrics, logger, { logRequests }) };
}

const request = { route: '/predict', method: 'POST', url: '/predict', requestId: 'id-1' };

describe('createResponseObserver', () => {
  it('writes one access line per request, the same bytes with or without a request logger', () => {
    const { lines, logger, observe } = setup(true);
    observe(request, 200, 1.23456);
    observe({ ...request, log: logger.child({ reqId: 'id-1' }) }, 200, 1.23456);
    expect(lines).toHaveLength(2);
    expect(JSON.stringify(lines[0])).toBe(JSON.stringify(lines[1]));
    expect(Object.keys(lines[0])).toEqual(['level', 'color', 'reqId', 'method', 'url', 'status', 'ms', 'msg']);
    expect(lines[0]).toMatchObject({ reqId: 'id-1', status: 200, ms: 1.235, msg: 'request completed' });
  });

  it('with LOG_REQUESTS=false logs only 5xx answers, and still counts every request', async () => {
    const { lines, metrics, observe } = setup(false);
    observe(request, 200, 1);
    observe(request, 422, 1);
    observe(request, 500, 1);
    expect(lines.map((line) => line['status'])).toEqual([500]);
    expect(await metrics.registry.getSingleMetricAsString('http_requests_total')).toMatch(
      /status="200"\} 1[\s\S]*status="422"\} 1[\s\S]*status="500"\} 1/,
    );
  });

  it('writes nothing above the info level', () => {
    const { lines, observe } = setup(true, 'warn');
    observe(request, 500, 1);
    expect(lines).toEqual([]);
  });
});
