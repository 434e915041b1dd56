import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WrkGenerator, findWrk, parseWrkOutput } from './wrk';

const wrk = findWrk();
const CONNECTIONS = 4;

/** A loopback server that counts what it answered: every third request a 503, the rest 200 with the body it read. */
async function countingServer(): Promise<{ server: Server; url: string; answered: { ok: number; failed: number; bodies: Set<string> } }> {
  const answered = { ok: 0, failed: 0, bodies: new Set<string>() };
  let seen = 0;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen += 1;
      answered.bodies.add(`${request.method} ${request.headers['content-type'] ?? ''} ${body}`);
      if (seen % 3 === 0) {
        answered.failed += 1;
        response.writeHead(503).end();
      } else {
        answered.ok += 1;
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/predict`, answered };
}

describe('wrk load generator', () => {
  it('a missing result line is an error that shows what wrk said', () => {
    expect(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused')).toThrow(/no result line.*Connection refused/s);
  });

  (wrk ? it : it.skip)(
    'counts what a real loopback server answered, failures included, and the CPU wrk used (real wrk binary)',
    async () => {
      const { server, url, answered } = await countingServer();
      const generator = new WrkGenerator(wrk as string);
      try {
        const { result, cpuMicros } = await generator.measure({
          url,
          method: 'POST',
          body: '{"features":[[1]]}',
          connections: CONNECTIONS,
          durationSeconds: 1,
        });
        // The server also answered what was in flight when wrk stopped: at most one request per connection.
        const served = answered.ok + answered.failed;
        expect(result.requests).toBeGreaterThan(0);
        expect(served).toBeGreaterThanOrEqual(result.requests);
        expect(served).toBeLessThanOrEqual(result.requests + CONNECTIONS);
        expect(result.non2xx).toBeGreaterThanOrEqual(answered.failed - CONNECTIONS);
        expect(result.non2xx).toBeLessThanOrEqual(answered.failed);
        expect(result.errors).toBe(0);
        expect(result.requestsPerSecond).toBeCloseTo(result.requests / result.durationSeconds, 5);
        expect(result.latency.p99Ms).toBeGreaterThanOrEqual(result.latency.p50Ms);
        expect([...answered.bodies]).toEqual(['POST application/json {"features":[[1]]}']);
        expect(cpuMicros).toBeGreaterThan(0);
      } finally {
        generator.close();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  );
});
