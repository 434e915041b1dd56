import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ReadinessTracker } from '../lifecycle/readiness';
import { sendRequest } from '../testing/http-request';
import { buildTestApp, LogCapture } from '../testing/test-app';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

async function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const answer = await sendRequest(port, { path, headers }, { method: 'GET', path });
  return { ...answer, body: JSON.parse(answer.body) as Record<string, unknown> };
}

/** All but what differs by design: the date, a generated request id, and the uptime (read a moment apart). */
function comparable({ status, headers, body }: Answer) {
  const { date: _date, 'x-request-id': _id, 'content-length': _length, ...rest } = headers;
  const { uptime_seconds: uptime, ...report } = body;
  return { status, headers: rest, body: report, uptime: typeof uptime };
}

describe('GET /health on node:http in front of Fastify (the fast path)', () => {
  const fastLogs = new LogCapture();
  const fastifyLogs = new LogCapture();
  let fast: NestFastifyApplication;
  let fastifyOnly: NestFastifyApplication;
  let ports: { fast: number; fastifyOnly: number };

  beforeAll(async () => {
    fast = await buildTestApp('v1.0.0', { COLOR: 'green' }, fastLogs);
    fastifyOnly = await buildTestApp('v1.0.0', { COLOR: 'green' }, fastifyLogs, { healthFastPath: false });
    await fast.listen({ port: 0, host: '127.0.0.1' });
    await fastifyOnly.listen({ port: 0, host: '127.0.0.1' });
    const port = (app: NestFastifyApplication) => (app.getHttpServer().address() as AddressInfo).port;
    ports = { fast: port(fast), fastifyOnly: port(fastifyOnly) };
  });
  afterAll(async () => {
    await fast.close();
    await fastifyOnly.close();
  });

  it('answers a ready service exactly as the Nest route does (status, headers, body, request id, log line)', async () => {
    const viaFast = await get(ports.fast, '/health');
    const viaNest = await get(ports.fastifyOnly, '/health');
    expect(viaFast.status).toBe(200);
    expect(viaFast.body).toMatchObject({ status: 'ok', version: 'v1.0.0', color: 'green', details: { model: { status: 'up' } } });
    expect(comparable(viaFast)).toEqual(comparable(viaNest));
    expect((await get(ports.fast, '/health', { 'x-request-id': 'given-1' })).headers['x-request-id']).toBe('given-1');
    // The access line is written after the answer: wait for it on both (two missing lines would compare equal).
    const completed = (entry: Record<string, unknown>) => entry['msg'] === 'request completed';
    await Promise.all([fastLogs.waitFor(completed), fastifyLogs.waitFor(completed)]);
    const line = (logs: LogCapture) => {
      const { time: _t, ms, reqId: _r, ...rest } = logs.lines.filter((entry) => entry['msg'] === 'request completed').at(0) ?? {};
      return { ...rest, ms: typeof ms };
    };
    expect(line(fastLogs)).toEqual(line(fastifyLogs));
  });

  it('answers 503 with the same body while draining, and closes the connection', async () => {
    for (const app of [fast, fastifyOnly]) app.get(ReadinessTracker).markDraining();
    try {
      const viaFast = await get(ports.fast, '/health');
      expect(viaFast).toMatchObject({ status: 503, body: { status: 'draining' }, headers: { connection: 'close' } });
      expect(comparable(viaFast)).toEqual(comparable(await get(ports.fastifyOnly, '/health')));
    } finally {
      for (const app of [fast, fastifyOnly]) app.get(ReadinessTracker).markReady();
    }
  });

  it('never reaches a Fastify route handler for a plain GET /health; a query string is left to Fastify', async () => {
    const handled: string[] = [];
    const onHandler = (message: unknown) => handled.push((message as { request: { url: string } }).request.url);
    subscribe('tracing:fastify.request.handler:start', onHandler);
    try {
      expect((await get(ports.fast, '/health')).status).toBe(200);
      expect(handled).toEqual([]);
      expect((await get(ports.fast, '/health?probe=1')).status).toBe(200);
      expect(handled).toEqual(['/health?probe=1']);
    } finally {
      unsubscribe('tracing:fastify.request.handler:start', onHandler);
    }
  });
});
