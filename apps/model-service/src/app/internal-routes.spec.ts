import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { API_ERRORS, PredictionsResponse } from '@mlbg/contract';
import { sendRequest } from '../testing/http-request';
import { LogCapture, buildTestApp } from '../testing/test-app';

/**
 * The internal routes (/admin/..., /metrics) are served only under their exact path: a gateway that
 * matches the raw path may let an encoded or otherwise non-canonical form through to a public
 * Service, and Fastify's router would decode it into the internal route.
 */
describe('internal routes only under their canonical path (real port)', () => {
  let app: NestFastifyApplication;
  const logs = new LogCapture();
  const get = (path: string) => sendRequest((app.getHttpServer().address() as AddressInfo).port, { path }, { method: 'GET', path });

  beforeAll(async () => {
    app = await buildTestApp('v1.0.0', { COLOR: 'blue', PREDICTION_LOG_SIZE: '3' }, logs);
    await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  it('serves the canonical paths (the deploy tool reads them in-cluster and on the socket)', async () => {
    const predictions = await get('/admin/predictions?after=0&limit=2');
    expect(predictions.status).toBe(200);
    expect(PredictionsResponse.parse(JSON.parse(predictions.body)).color).toBe('blue');
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('http_requests_total');
  });

  it.each([
    '/%61dmin/predictions',
    '/%41dmin/predictions',
    '/admin/%70redictions',
    '/admin%2Fpredictions',
    '/admin%2fpredictions',
    '/%2561dmin/predictions',
    '//admin/predictions',
    '/admin//predictions',
    '/admin/./predictions',
    '/x/../admin/predictions',
    '/admin/predictions/',
    '/ADMIN/predictions',
    '/%6detrics',
    '/%6Detrics',
    '/metric%73',
    '/metrics/',
    '//metrics',
    '/./metrics',
    '/x/../metrics',
    '/%2e/metrics',
    '/%61dmin/predictions?after=0',
    '/%6detrics?x=1',
  ])('refuses %s with the JSON 404 of an unknown route', async (path) => {
    const answer = await get(path);
    expect({ path, status: answer.status }).toEqual({ path, status: 404 });
    expect(JSON.parse(answer.body)).toEqual({ detail: API_ERRORS.NOT_FOUND.message, code: 'NOT_FOUND' });
    // Answered once, cleanly: no "reply already sent" warning, no error.
    expect(logs.lines.filter((line) => Number(line['level']) >= 40)).toEqual([]);
  });

  it('counts the refused spellings as unmatched requests, not as requests of the internal routes', async () => {
    await get('/%6detrics');
    await get('/%61dmin/predictions');
    const metrics = (await get('/metrics')).body;
    expect(metrics).toMatch(/http_requests_total\{route="unmatched",method="GET",status="404"\} [1-9]/);
    expect(metrics).not.toMatch(/http_requests_total\{route="\/(metrics|admin\/predictions)",method="GET",status="404"\}/);
  });

  it('still decodes the parameters of a route (only its fixed part must be spelled out)', async () => {
    const metadata = await get('/v2/models/%6dodel');
    expect(metadata.status).toBe(200);
    expect(JSON.parse(metadata.body)).toMatchObject({ name: 'model' });
  });

  it('answers inject (the same Fastify route) the same way', async () => {
    expect((await app.inject({ method: 'GET', url: '/%6detrics' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
  });
});
