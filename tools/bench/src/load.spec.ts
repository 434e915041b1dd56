import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forkLoadWorker, LoadGenerator, RECONNECT_EVERY, type FromWorker } from './load';

describe('the load process', () => {
  let server: Server;
  let url: string;
  let served = 0;
  beforeAll(async () => {
    server = createServer((request, response) => {
      served++;
      request.resume();
      request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((closed) => server.close(closed)));

  it('loads a server and reports what it served', async () => {
    const load = await LoadGenerator.start();
    try {
      const before = served;
      const result = await load.run({
        url: `${url}/predict`,
        method: 'POST',
        body: '{"features": [[1]]}',
        connections: 2,
        durationSeconds: 0.5,
      });
      expect(result.requests).toBeGreaterThan(0);
      // Uncounted but served: one request per connection in flight when the time is up, and one per
      // reconnect (a connection is replaced every RECONNECT_EVERY answers, with the next request
      // possibly written already), so at most this many more than counted.
      const connections = 2;
      const reconnects = Math.floor(result.requests / RECONNECT_EVERY) + connections;
      expect(served - before).toBeGreaterThanOrEqual(result.requests);
      expect(served - before).toBeLessThanOrEqual(result.requests + connections + reconnects);
      expect(result.statuses).toEqual({ '200': result.requests });
      expect(result.non2xx + result.errors + result.timeouts + result.resets).toBe(0);
      expect(result.latency.p50Ms).toBeGreaterThan(0);
      expect(result.latency.maxMs).toBeGreaterThanOrEqual(result.latency.p99Ms);
    } finally {
      await load.close();
    }
  }, 30_000);

  it('stops and exits when the bench that started it goes away', async () => {
    const worker = forkLoadWorker();
    await new Promise<void>((ready) => worker.once('message', (message: FromWorker) => message.type === 'ready' && ready()));
    worker.send({ type: 'run', id: 1, request: { url, method: 'GET', connections: 1, durationSeconds: 30 } });
    await new Promise((running) => setTimeout(running, 300));
    const exited = new Promise<number | null>((done) => worker.once('exit', (code) => done(code)));
    worker.disconnect(); // what the worker sees when the bench process dies
    expect(await exited).toBe(0);
  }, 30_000);
});
