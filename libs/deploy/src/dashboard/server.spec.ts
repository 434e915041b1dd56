import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Color } from '@mlbg/contract';
import { type StackLayout, stackLayout } from '../backends/local/layout';
import { type CommandContext, stateFolderStores } from '../commands/context';
import { gatesNamed } from '../gates';
import { readHistory } from '../history/history';
import { DEFAULT_PREFLIGHT_GATES, DeploymentSpec } from '../spec/deployment-spec';
import { type FakeColor, fakeBackend, fakeClock } from '../testing/fakes';
import { DashboardFeed } from './feed';
import { type RunningDashboard, startDashboard } from './server';

const TOKEN = 'a'.repeat(48);
const USER = 'tester (dashboard)';

describe('the dashboard server (real HTTP on loopback; a fake deployment behind it)', () => {
  let dir: string;
  let layout: StackLayout;
  let assets: string;
  let dashboard: RunningDashboard | undefined;
  let opened: string[];
  let backend: ReturnType<typeof fakeBackend>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlbg-dashboard-'));
    layout = stackLayout(dir, join(dir, 'state'), dir);
    mkdirSync(layout.stateDir, { recursive: true });
    assets = join(dir, 'assets');
    mkdirSync(assets);
    writeFileSync(join(assets, 'index.html'), '<!doctype html><title>dashboard test page</title>');
    opened = [];
  });
  afterEach(async () => {
    await dashboard?.close();
    dashboard = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (options: { readOnly?: boolean; green?: FakeColor } = {}) => {
    backend = fakeBackend({ live: 'blue', colors: { blue: { version: 'v1.0.0', featureCount: 1 }, green: options.green ?? { version: 'v1.1.0', featureCount: 1 } } });
    const context = (): CommandContext => ({ backend, ...stateFolderStores(layout), clock: fakeClock(), userName: USER, progress: () => undefined, preflight: gatesNamed(DEFAULT_PREFLIGHT_GATES) });
    const feed = new DashboardFeed({ openContext: async () => context(), http: async () => Promise.reject(new Error('no http in this test')), clock: fakeClock() });
    dashboard = await startDashboard({
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      readOnly: options.readOnly ?? false,
      assetsDir: assets,
      backend: 'local',
      userName: USER,
      feed,
      actionEnv: { spec: () => DeploymentSpec.parse({}) },
      diff: async () => Promise.reject(new Error('no diff in this test')),
      openContext: async (action) => {
        opened.push(action);
        return context();
      },
    });
    return dashboard;
  };
  const url = (path: string) => new URL(path, dashboard?.url).toString();
  const origin = () => (dashboard?.url ?? '').replace(/\/$/, '');
  const withToken = { authorization: `Bearer ${TOKEN}` };
  const post = (path: string, headers: Record<string, string>, body: unknown = {}) => fetch(url(path), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const history = () => readHistory(layout.historyFile).entries;

  it('refuses every request without the token with 401 and says where the token is', async () => {
    await start();
    for (const path of ['/', '/index.html', '/api/state', '/api/events', '/api/state?token=wrong']) {
      const answer = await fetch(url(path), { redirect: 'manual' });
      expect({ path, status: answer.status }).toEqual({ path, status: 401 });
      expect(await answer.json()).toMatchObject({ error: { code: 'UNAUTHORIZED', hint: expect.stringContaining('?token=') } });
    }
    const action = await post('/api/actions/switch', { origin: origin() }, { color: 'green' });
    expect(action.status).toBe(401);
    expect(opened).toEqual([]);
  });

  it('takes the token once from the URL, keeps it in a cookie and drops it from the address', async () => {
    await start();
    const first = await fetch(url(`/?token=${TOKEN}`), { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/');
    const cookie = first.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await fetch(url('/'), { headers: { cookie: cookie.split(';')[0] ?? '' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('dashboard test page');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const state = await fetch(url('/api/state'), { headers: withToken });
    expect(state.headers.get('cache-control')).toBe('no-store');
    expect(await state.json()).toMatchObject({ backend: 'local', readOnly: false, user: USER, actions: ['switch', 'rollback', 'release', 'shadow'] });
  });

  it('refuses an action without the page\'s Origin (403) and changes nothing', async () => {
    await start();
    for (const headers of [withToken, { ...withToken, origin: 'http://evil.example' }, { ...withToken, origin: origin().replace('127.0.0.1', 'localhost') }]) {
      const answer = await post('/api/actions/switch', headers, { color: 'green' });
      expect(answer.status).toBe(403);
      expect(await answer.json()).toMatchObject({ error: { code: 'BAD_ORIGIN' } });
    }
    expect(opened).toEqual([]);
    expect(backend.moves).toEqual([]);
    expect(history()).toEqual([]);
  });

  it('--read-only: says so in the state and refuses every action with 403 JSON', async () => {
    await start({ readOnly: true });
    expect(await (await fetch(url('/api/state'), { headers: withToken })).json()).toMatchObject({ readOnly: true, actions: [] });
    for (const name of ['switch', 'rollback', 'release']) {
      const answer = await post(`/api/actions/${name}`, { ...withToken, origin: origin() }, name === 'release' ? { model: 'models/v1.1.0/model.onnx' } : {});
      expect(answer.status).toBe(403);
      expect(answer.headers.get('content-type')).toMatch(/application\/json/);
      expect(await answer.json()).toMatchObject({ error: { code: 'READ_ONLY' } });
    }
    expect(opened).toEqual([]);
    expect(history()).toEqual([]);
  });

  it('switches through the switch command: the route moves and the history names the dashboard user', async () => {
    await start();
    const answer = await post('/api/actions/switch', { ...withToken, origin: origin() }, { color: 'green' });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ ok: true, result: { kind: 'switched', from: 'blue', to: 'green' } });
    expect(opened).toEqual(['switch']);
    expect(backend.moves).toEqual<Color[]>(['green']);
    expect(history()).toMatchObject([
      { command: 'switch-intent', user: USER, from: 'blue', to: 'green' },
      { command: 'switch', outcome: 'switched', user: USER, from: 'blue', to: 'green' },
    ]);
  });

  it('answers a switch the gates refuse with 409 and the gate\'s message, and moves nothing', async () => {
    await start({ green: { version: 'v1.1.0', featureCount: 1, health: 503 } });
    const answer = await post('/api/actions/switch', { ...withToken, origin: origin() }, { color: 'green' });
    expect(answer.status).toBe(409);
    const body = (await answer.json()) as { ok: boolean; error: { code: string; message: string } };
    expect(body.ok).toBe(false);
    expect(body.error.code).toBe('PREFLIGHT_FAILED');
    const entry = history()[0];
    expect(entry).toMatchObject({ command: 'switch', outcome: 'refused' });
    expect(body.error.message).toContain(entry?.reason ?? 'a reason in the history');
    expect(backend.moves).toEqual([]);
  });

  it('refuses a switch to another version than the one the page confirmed (expectVersion)', async () => {
    await start();
    const answer = await post('/api/actions/switch', { ...withToken, origin: origin() }, { color: 'green', expectVersion: 'v9.9.9' });
    expect(answer.status).toBe(409);
    expect(await answer.json()).toMatchObject({ ok: false, error: { code: 'PREFLIGHT_FAILED', message: expect.stringContaining('v9.9.9') } });
    expect(backend.moves).toEqual([]);
  });

  it('answers shadow on a backend without shadow traffic with 409 and the command\'s own error', async () => {
    await start();
    const answer = await post('/api/actions/shadow', { ...withToken, origin: origin() }, { on: true });
    expect(answer.status).toBe(409);
    expect(await answer.json()).toMatchObject({ ok: false, error: { code: 'DIFF_UNAVAILABLE' } });
    expect(opened).toEqual(['shadow']);
  });

  it('answers a bad request body or an unknown action clearly (400, 404), without running anything', async () => {
    await start();
    const bad = await post('/api/actions/switch', { ...withToken, origin: origin() }, { color: 'purple' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringContaining('color') } });
    const unknown = await post('/api/actions/explode', { ...withToken, origin: origin() });
    expect(unknown.status).toBe(404);
    expect(opened).toEqual([]);
  });

  it('streams server-sent events: a snapshot first, then what an action did', async () => {
    await start();
    const events: string[] = [];
    const request = get(url('/api/events'), { headers: withToken });
    const response = await new Promise<import('node:http').IncomingMessage>((resolve) => request.once('response', resolve));
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    const finished = new Promise<void>((resolve) => {
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        events.push(...[...chunk.matchAll(/^event: (\w+)$/gm)].map((match) => match[1] ?? ''));
        if (chunk.includes('"phase":"finished"')) resolve();
      });
    });
    await new Promise<void>((resolve) => {
      const wait = () => (events.includes('snapshot') ? resolve() : setTimeout(wait, 10));
      wait();
    });
    expect(events[0]).toBe('snapshot');
    await post('/api/actions/switch', { ...withToken, origin: origin() }, { color: 'green' });
    await finished;
    expect(events).toContain('action');
    request.destroy();
  });

  it('does not start without the built page, and says how to build it', async () => {
    rmSync(join(assets, 'index.html'));
    await expect(start()).rejects.toMatchObject({ code: 'DASHBOARD_NOT_BUILT', hint: expect.stringContaining('nx run dashboard:build') });
  });
});
