import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';
import { createResponseObserver } from '../logging/response-observer';
import { MetricsService } from '../metrics/metrics.service';
import { type HttpAnswer, type SentRequest, sendRequest } from '../testing/http-request';
import { buildTestApp, LogCapture } from '../testing/test-app';
import { createPredictFastPath } from './predict.fast-path';
import { PredictService } from './predict.service';

type Sent = SentRequest;
type Answer = HttpAnswer;

const JSON_TYPE = { 'content-type': 'application/json' };
const rows = (count: number) => JSON.stringify({ features: Array.from({ length: count }, (_, i) => [i / 7]) });

const send = (port: number, sent: Sent): Promise<Answer> => sendRequest(port, sent, { method: 'POST', path: '/predict' });

/** Every request kind the route distinguishes: valid ones, each error, and ones the fast path leaves to Fastify. */
const CORPUS: [string, Sent][] = [
  ['the original example', { headers: JSON_TYPE, body: '{"features": [[1], [2], [3]]}' }],
  ['a keep-alive request', { headers: { ...JSON_TYPE, connection: 'keep-alive' }, body: '{"features": [[1], [2], [3]]}' }],
  ['a charset', { headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"features": [[1]]}' }],
  ['a given request id', { headers: { ...JSON_TYPE, 'x-request-id': 'given-id-1' }, body: '{"features": [[0.5]]}' }],
  ['50 rows', { headers: JSON_TYPE, body: rows(50) }],
  ['50 rows in two parts', { headers: JSON_TYPE, body: rows(50), split: true }],
  ['broken JSON in two parts', { headers: JSON_TYPE, body: `${rows(20)}]`, split: true }],
  ['exponents and whitespace', { headers: JSON_TYPE, body: ' {\n "features" : [ [1e2] , [-0.5E-1], [-0] ] }\n' }],
  ['an escaped key (valid, not plain)', { headers: JSON_TYPE, body: '{"feat\\u0075res": [[1]]}' }],
  ['an extra key (valid, not plain)', { headers: JSON_TYPE, body: '{"features": [[1]], "id": "x"}' }],
  ['51 rows (over MAX_BATCH_ROWS)', { headers: JSON_TYPE, body: rows(51) }],
  ['a broken object', { headers: JSON_TYPE, body: '{"features": [[1]' }],
  ['a trailing comma', { headers: JSON_TYPE, body: '{"features": [[1],]}' }],
  ['a bare word', { headers: JSON_TYPE, body: 'hello' }],
  ['an empty body', { headers: JSON_TYPE, body: '' }],
  ['whitespace only', { headers: JSON_TYPE, body: '   ' }],
  ['__proto__', { headers: JSON_TYPE, body: '{"features": [[1]], "__proto__": {"polluted": true}}' }],
  ['constructor.prototype', { headers: JSON_TYPE, body: '{"features": [[1]], "constructor": {"prototype": {"polluted": true}}}' }],
  ['missing features', { headers: JSON_TYPE, body: '{}' }],
  ['an empty batch', { headers: JSON_TYPE, body: '{"features": []}' }],
  ['ragged rows', { headers: JSON_TYPE, body: '{"features": [[1], [2, 3]]}' }],
  ['a string value', { headers: JSON_TYPE, body: '{"features": [["1"]]}' }],
  ['Infinity', { headers: JSON_TYPE, body: '{"features": [[1e999]]}' }],
  ['too large for float32', { headers: JSON_TYPE, body: '{"features": [[1e300]]}' }],
  ['a JSON array body', { headers: JSON_TYPE, body: '[[1]]' }],
  ['a JSON null body', { headers: JSON_TYPE, body: 'null' }],
  ['invalid UTF-8', { headers: JSON_TYPE, body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) }],
  ['non-ASCII text', { headers: JSON_TYPE, body: '{"features": [[1]], "note": "héllo ✓"}' }],
  ['over BODY_LIMIT', { headers: JSON_TYPE, body: JSON.stringify({ features: [[1]], padding: 'x'.repeat(5000) }) }],
  ['a chunked body', { headers: JSON_TYPE, body: ['{"features": ', '[[1], [2]]}'] }],
  ['text/plain', { headers: { 'content-type': 'text/plain' }, body: '{"features": [[1]]}' }],
  ['an upper-case type', { headers: { 'content-type': 'Application/JSON' }, body: '{"features": [[1]]}' }],
  ['no content type', { body: '{"features": [[1]]}' }],
  ['a query string', { path: '/predict?x=1', headers: JSON_TYPE, body: '{"features": [[1]]}' }],
  ['GET /predict', { method: 'GET' }],
  ['PUT /predict', { method: 'PUT', headers: JSON_TYPE, body: '{"features": [[1]]}' }],
];

/** The first this many corpus entries are plain requests the fast path serves; the rest it leaves to Fastify. */
const FAST_CASES = 28;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What must be equal: all but the date, and a generated request id (checked to be a UUID instead). */
function comparable(answer: Answer, sent: Sent): Answer {
  const { date: _date, ...headers } = answer.headers;
  if (!sent.headers?.['x-request-id']) {
    expect(headers['x-request-id']).toMatch(UUID);
    delete headers['x-request-id'];
  }
  return { status: answer.status, headers, body: answer.body };
}

/** Log lines (and their key order) without what differs by design: time, generated request ids, durations. */
function comparableLogs(logs: LogCapture, from: number): Record<string, unknown>[] {
  return logs.lines.slice(from).map((line) => {
    const { time: _time, ms, reqId, ...rest } = line;
    return {
      ...rest,
      keys: Object.keys(line).join(','),
      ms: typeof ms,
      reqId: typeof reqId === 'string' && UUID.test(reqId) ? '(uuid)' : reqId,
    };
  });
}

function counts(metrics: string): string[] {
  return metrics
    .split('\n')
    .filter((line) => /^(http_requests_total|http_request_duration_seconds_count|model_inference_duration_seconds_count)/.test(line));
}

describe('POST /predict on node:http in front of Fastify (the fast path)', () => {
  const env = { COLOR: 'blue', MAX_BATCH_ROWS: '50', BODY_LIMIT: '4096' };
  const fastLogs = new LogCapture();
  const fastifyLogs = new LogCapture();
  let fast: NestFastifyApplication;
  let fastifyOnly: NestFastifyApplication;
  let ports: { fast: number; fastifyOnly: number };

  beforeAll(async () => {
    fast = await buildTestApp('v1.0.0', env, fastLogs);
    fastifyOnly = await buildTestApp('v1.0.0', env, fastifyLogs, { predictFastPath: false });
    await fast.listen({ port: 0, host: '127.0.0.1' });
    await fastifyOnly.listen({ port: 0, host: '127.0.0.1' });
    const port = (app: NestFastifyApplication) => (app.getHttpServer().address() as AddressInfo).port;
    ports = { fast: port(fast), fastifyOnly: port(fastifyOnly) };
  });
  afterAll(async () => {
    await fast.close();
    await fastifyOnly.close();
  });

  it.each(CORPUS)('answers %s exactly as the Fastify route does (status, headers, body, log line)', async (_name, sent) => {
    const logsFrom = { fast: fastLogs.lines.length, fastifyOnly: fastifyLogs.lines.length };
    const viaFast = await send(ports.fast, sent);
    const viaFastify = await send(ports.fastifyOnly, sent);
    expect(comparable(viaFast, sent)).toEqual(comparable(viaFastify, sent));
    // Log lines are written after the answer; give the async destination a moment.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(comparableLogs(fastLogs, logsFrom.fast)).toEqual(comparableLogs(fastifyLogs, logsFrom.fastifyOnly));
  });

  it('counts the same requests in the same metric series', async () => {
    const metrics = async (port: number) => (await send(port, { method: 'GET', path: '/metrics' })).body;
    expect(counts(await metrics(ports.fast))).toEqual(counts(await metrics(ports.fastifyOnly)));
    expect(counts(await metrics(ports.fast)).length).toBeGreaterThan(3);
  });
});

describe('which requests the fast path takes', () => {
  let app: NestFastifyApplication;
  let server: Server;
  let port: number;
  let accepting = true;
  const delegated: string[] = [];

  beforeAll(async () => {
    app = await buildTestApp('v1.0.0', { BODY_LIMIT: '4096' });
    const logger = pino({ level: 'silent' });
    const fastify = app.getHttpAdapter().getInstance();
    const fastPath = createPredictFastPath({
      predictions: app.get(PredictService),
      logger,
      version: 'v1.0.0',
      color: 'blue',
      bodyLimit: 4096,
      parseJson: fastify.getDefaultJsonParser('error', 'error'),
      requestIdHeader: 'x-request-id',
      genReqId: () => 'made-id',
      accepting: () => accepting,
      closeAfter: () => false,
      observe: createResponseObserver(new MetricsService(), logger, { logRequests: true }),
    });
    server = createServer((req, res) => {
      if (fastPath(req, res)) return;
      delegated.push(`${req.method} ${req.url}`);
      req.resume();
      res.writeHead(599).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await app.close();
  });

  it('serves plain JSON requests itself, errors included', async () => {
    for (const [, sent] of CORPUS.slice(0, FAST_CASES)) {
      const answer = await send(port, sent);
      expect({ name: sent.body?.toString().slice(0, 30), status: answer.status }).not.toMatchObject({ status: 599 });
    }
    expect(delegated).toEqual([]);
    const made = await send(port, { headers: JSON_TYPE, body: '{"features": [[1]]}' });
    expect(made.headers['x-request-id']).toBe('made-id');
  });

  it('leaves oversized, chunked, other-typed, other-method and other-URL requests to Fastify', async () => {
    for (const [, sent] of CORPUS.slice(FAST_CASES)) expect((await send(port, sent)).status).toBe(599);
    expect(delegated).toHaveLength(CORPUS.length - FAST_CASES);
  });

  it('leaves everything to Fastify while the service is draining or closing', async () => {
    accepting = false;
    delegated.length = 0;
    expect((await send(port, CORPUS[0][1])).status).toBe(599);
    expect(delegated).toEqual(['POST /predict']);
    accepting = true;
  });
});

describe('LOG_REQUESTS=false', () => {
  it('writes no access line for 2xx and 4xx answers, on either path', async () => {
    const logs = new LogCapture();
    const app = await buildTestApp('v1.0.0', { LOG_REQUESTS: 'false' }, logs);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.getHttpServer().address() as AddressInfo).port;
    expect((await send(port, CORPUS[0][1])).status).toBe(200);
    expect((await send(port, { headers: JSON_TYPE, body: '{"features": []}' })).status).toBe(422);
    expect((await app.inject({ method: 'POST', url: '/predict', headers: JSON_TYPE, payload: '{"features": [[1]]}' })).statusCode).toBe(
      200,
    );
    // Closed first: close waits for every request to finish, and the access line is written when one finishes.
    await app.close();
    expect(logs.lines.filter((line) => line['msg'] === 'request completed')).toEqual([]);
  });
});

describe('the default app serves POST /predict on its fast path', () => {
  // Fastify announces every request its router hands to a route handler on this channel (node:diagnostics_channel).
  const FASTIFY_HANDLER_START = 'tracing:fastify.request.handler:start';

  it('a plain request never reaches a Fastify route handler; a chunked one (left to Fastify) does', async () => {
    const app = await buildTestApp('v1.0.0');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.getHttpServer().address() as AddressInfo).port;
    const handled: string[] = [];
    const onHandler = (message: unknown) => {
      const { request } = message as { request: { method: string; url: string } };
      handled.push(`${request.method} ${request.url}`);
    };
    subscribe(FASTIFY_HANDLER_START, onHandler);
    try {
      expect((await send(port, CORPUS[0][1])).status).toBe(200);
      expect(handled).toEqual([]);
      // The control: the same route through Fastify is seen, so the check above can fail.
      expect((await send(port, { headers: JSON_TYPE, body: ['{"features": ', '[[1]]}'] })).status).toBe(200);
      expect(handled).toEqual(['POST /predict']);
    } finally {
      unsubscribe(FASTIFY_HANDLER_START, onHandler);
      await app.close();
    }
  });
});

describe.each([
  [
    'a classifier (ZipMap)',
    'fixtures/zipmap-classifier',
    ['{"features": [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3]]}', '{"features": [[1, 2]]}'],
  ],
  [
    'a model with typed inputs',
    'fixtures/mixed-inputs',
    ['{"features": [[35, 52000.5, 3]]}', '{"features": [[35.5, 1, 3]]}', '{"features": [[1, 1, 3000000000]]}'],
  ],
])('the fast path answers %s exactly as the Fastify route does', (_kind, model, bodies) => {
  let fast: NestFastifyApplication;
  let fastifyOnly: NestFastifyApplication;
  const port = (app: NestFastifyApplication) => (app.getHttpServer().address() as AddressInfo).port;

  beforeAll(async () => {
    fast = await buildTestApp(model);
    fastifyOnly = await buildTestApp(model, {}, new LogCapture(), { predictFastPath: false });
    await fast.listen({ port: 0, host: '127.0.0.1' });
    await fastifyOnly.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await fast.close();
    await fastifyOnly.close();
  });

  it.each(bodies)('%s', async (body) => {
    const sent: Sent = { headers: JSON_TYPE, body };
    expect(comparable(await send(port(fast), sent), sent)).toEqual(comparable(await send(port(fastifyOnly), sent), sent));
  });
});
