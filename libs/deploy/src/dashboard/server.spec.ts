import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Color, DashboardEvents, DashboardSnapshot, type DiffResult, EdgeError, actionOutcome } from '@mlbg/contract';
import type { z } from 'zod';
import { type StackLayout, stackLayout } from '../backends/local/layout';
import { type CommandContext, stateFolderStores } from '../commands/context';
import { gatesNamed } from '../gates';
import { readHistory } from '../history/history';
import { DEFAULT_PREFLIGHT_GATES, DeploymentSpec } from '../spec/deployment-spec';
import { type FakeColor, fakeBackend, fakeClock } from '../testing/fakes';
import { thisCli } from '../cli/dashboard';
import type { Backend } from '../backends/backend';
import { type Routes, routesWithLive } from '../routing/routes';
import { diffReport } from '../gates/prediction-diff-report';
import { type CliCommand, launchCanary } from './canary-launch';
import { DashboardFeed } from './feed';
import { type RunningDashboard, startDashboard } from './server';

const TOKEN = 'a'.repeat(48);
const USER = 'tester (dashboard)';
const WORKSPACE_ROOT = resolve(__dirname, '../../../..');
const realClock = { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((done) => setTimeout(done, ms)) };

/**
 * A FAKE `deploy canary` (plain node): writes what it was started with, then either writes the
 * canary's run file naming its own pid and waits for SIGTERM, or (with --color=blue) answers as
 * the CLI does with --json when a gate refused, and exits 1.
 */
const FAKE_CANARY_CLI = `
const { writeFileSync, renameSync } = require('node:fs');
const { join } = require('node:path');
const args = process.argv.slice(2);
const stateDir = args.find((arg) => arg.startsWith('--state-dir=')).slice('--state-dir='.length);
writeFileSync(join(stateDir, 'started-with.json'), JSON.stringify({ args, user: process.env.BLUEGREEN_USER, pid: process.pid }));
if (args.includes('--color=blue')) {
  process.stderr.write('preflight: checking blue before it takes a share of green\\'s traffic\\n');
  process.stdout.write(JSON.stringify({ ok: false, command: 'canary', result: null, error: { code: 'PREFLIGHT_FAILED', message: 'the fake gate refused blue', hint: 'a hint' } }, null, 2) + '\\n');
  process.exit(1);
}
process.stderr.write('step 1 of 2: green at 25%\\n');
setTimeout(() => {
  const run = { pid: process.pid, stable: 'blue', canary: 'green', steps: [25, 100], weight: 25, step: 1, intervalMs: 60000, analysisAt: new Date(Date.now() + 60000).toISOString(), lastAnalysis: null };
  writeFileSync(join(stateDir, 'canary.json.tmp'), JSON.stringify(run));
  renameSync(join(stateDir, 'canary.json.tmp'), join(stateDir, 'canary.json'));
}, 300);
process.on('SIGTERM', () => process.exit(1));
setInterval(() => undefined, 1000);
`;

describe('the dashboard server (real HTTP on loopback; a fake deployment behind it)', () => {
  let dir: string;
  let layout: StackLayout;
  let assets: string;
  let dashboard: RunningDashboard | undefined;
  let opened: string[];
  let backend: ReturnType<typeof fakeBackend>;
  let feed: DashboardFeed;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlbg-dashboard-'));
    layout = stackLayout(dir, join(dir, 'state'), dir);
    mkdirSync(layout.stateDir, { recursive: true });
    assets = join(dir, 'assets');
    mkdirSync(assets);
    writeFileSync(join(assets, 'index.html'), '<!doctype html><title>dashboard test page</title>');
    writeFileSync(join(assets, 'main-1a2b3c.js'), 'console.log("bundle");');
    opened = [];
  });
  afterEach(async () => {
    await dashboard?.close();
    dashboard = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (
    options: { readOnly?: boolean; green?: FakeColor; cli?: CliCommand; routes?: Routes; diff?: () => Promise<DiffResult> } = {},
  ) => {
    backend = fakeBackend({
      live: 'blue',
      colors: { blue: { version: 'v1.0.0', featureCount: 1 }, green: options.green ?? { version: 'v1.1.0', featureCount: 1 } },
    });
    if (options.routes) backend = splitBackend(backend, options.routes);
    const context = (): CommandContext => ({
      backend,
      ...stateFolderStores(layout),
      clock: fakeClock(),
      userName: USER,
      progress: () => undefined,
      preflight: gatesNamed(DEFAULT_PREFLIGHT_GATES),
    });
    feed = new DashboardFeed({
      openContext: async () => context(),
      http: async () => Promise.reject(new Error('no http in this test')),
      clock: fakeClock(),
    });
    dashboard = await startDashboard({
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      readOnly: options.readOnly ?? false,
      assetsDir: assets,
      backend: 'local',
      userName: USER,
      feed,
      actionEnv: {
        spec: () => DeploymentSpec.parse({}),
        workspaceRoot: dir,
        startCanary: (request, context) =>
          launchCanary(
            request,
            {
              cli: options.cli ?? fakeCli(),
              stateDir: layout.stateDir,
              backend: 'local',
              userName: USER,
              runFile: context.canaryRun,
              clock: realClock,
            },
            context.progress,
          ),
      },
      diff: options.diff ?? (async () => Promise.reject(new Error('no diff in this test'))),
      openContext: async (action) => {
        opened.push(action);
        return context();
      },
    });
    return dashboard;
  };
  const fakeCli = (): CliCommand => {
    const script = join(dir, 'fake-canary-cli.js');
    writeFileSync(script, FAKE_CANARY_CLI);
    return { command: process.execPath, args: [script], cwd: dir, env: process.env };
  };
  const url = (path: string) => new URL(path, dashboard?.url).toString();
  const origin = () => (dashboard?.url ?? '').replace(/\/$/, '');
  const withToken = { authorization: `Bearer ${TOKEN}` };
  const post = (path: string, headers: Record<string, string>, body: unknown = {}) =>
    fetch(url(path), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const history = () => readHistory(layout.historyFile).entries;
  /** The answer's JSON, which must be what the contract says the page gets. */
  const json = async (answer: Response, schema: z.ZodType): Promise<unknown> => {
    const body: unknown = await answer.json();
    expect(schema.parse(body)).toEqual(body);
    return body;
  };

  it('refuses every request without the token with 401 and says where the token is', async () => {
    await start();
    for (const path of ['/', '/index.html', '/api/state', '/api/events', '/api/state?token=wrong']) {
      const answer = await fetch(url(path), { redirect: 'manual' });
      expect({ path, status: answer.status }).toEqual({ path, status: 401 });
      expect(await json(answer, EdgeError)).toMatchObject({ error: { code: 'UNAUTHORIZED', hint: expect.stringContaining('?token=') } });
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
    // the page is asked again every time; a bundle (a content hash in its name) is cached for good
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const bundle = await fetch(url('/main-1a2b3c.js'), { headers: withToken });
    expect([bundle.status, bundle.headers.get('cache-control')]).toEqual([200, 'public, max-age=31536000, immutable']);
    const state = await fetch(url('/api/state'), { headers: withToken });
    expect(state.headers.get('cache-control')).toBe('no-store');
    expect(await json(state, DashboardSnapshot)).toMatchObject({
      backend: 'local',
      readOnly: false,
      user: USER,
      // The registry's order (commands/registry.ts): each command's buttons where the command is.
      actions: ['switch', 'rollback', 'release', 'canary', 'canary-abort', 'promote', 'shadow'],
      canaryDefaults: { steps: [5, 25, 50, 100], intervalSeconds: 30 },
    });
  });

  it("refuses an action without the page's Origin (403) and changes nothing", async () => {
    await start();
    for (const headers of [
      withToken,
      { ...withToken, origin: 'http://evil.example' },
      { ...withToken, origin: origin().replace('127.0.0.1', 'localhost') },
    ]) {
      const answer = await post('/api/actions/switch', headers, { color: 'green' });
      expect(answer.status).toBe(403);
      expect(await json(answer, EdgeError)).toMatchObject({ error: { code: 'BAD_ORIGIN' } });
    }
    expect(opened).toEqual([]);
    expect(backend.moves).toEqual([]);
    expect(history()).toEqual([]);
  });

  it('--read-only: says so in the state and refuses every action with 403 JSON', async () => {
    await start({ readOnly: true });
    expect(await (await fetch(url('/api/state'), { headers: withToken })).json()).toMatchObject({ readOnly: true, actions: [] });
    for (const name of ['switch', 'rollback', 'release']) {
      const answer = await post(
        `/api/actions/${name}`,
        { ...withToken, origin: origin() },
        name === 'release' ? { model: 'models/v1.1.0/model.onnx' } : {},
      );
      expect(answer.status).toBe(403);
      expect(answer.headers.get('content-type')).toMatch(/application\/json/);
      expect(await json(answer, EdgeError)).toMatchObject({ error: { code: 'READ_ONLY' } });
    }
    expect(opened).toEqual([]);
    expect(history()).toEqual([]);
  });

  it('switches through the switch command: the route moves and the history names the dashboard user', async () => {
    await start();
    const answer = await post('/api/actions/switch', { ...withToken, origin: origin() }, { color: 'green' });
    expect(answer.status).toBe(200);
    expect(await json(answer, actionOutcome('switch'))).toMatchObject({
      ok: true,
      result: { kind: 'switched', from: 'blue', to: 'green' },
    });
    expect(opened).toEqual(['switch']);
    expect(backend.moves).toEqual<Color[]>(['green']);
    expect(history()).toMatchObject([
      { command: 'switch-intent', user: USER, from: 'blue', to: 'green' },
      { command: 'switch', outcome: 'switched', user: USER, from: 'blue', to: 'green' },
    ]);
  });

  it("answers a switch the gates refuse with 409 and the gate's message, and moves nothing", async () => {
    await start({ green: { version: 'v1.1.0', featureCount: 1, health: 503 } });
    const answer = await post('/api/actions/switch', { ...withToken, origin: origin() }, { color: 'green' });
    expect(answer.status).toBe(409);
    const body = (await json(answer, actionOutcome('switch'))) as { ok: boolean; error: { code: string; message: string } };
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
    expect(await answer.json()).toMatchObject({
      ok: false,
      error: { code: 'PREFLIGHT_FAILED', message: expect.stringContaining('v9.9.9') },
    });
    expect(backend.moves).toEqual([]);
  });

  it("answers shadow on a backend without shadow traffic with 409 and the command's own error", async () => {
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
    expect(await json(bad, EdgeError)).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringContaining('color') } });
    const unknown = await post('/api/actions/explode', { ...withToken, origin: origin() });
    expect(unknown.status).toBe(404);
    expect(opened).toEqual([]);
  });

  it('refuses a release whose model is not one plain path (a newline would be a second line of .env), before running anything', async () => {
    await start();
    for (const model of ['x.onnx\nGREEN_IMAGE=evil/img', 'models/$(id).onnx', 'models/a b.onnx']) {
      const answer = await post('/api/actions/release', { ...withToken, origin: origin() }, { model });
      expect({ model, status: answer.status }).toEqual({ model, status: 400 });
      expect(await answer.json()).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringContaining('model') } });
    }
    expect(opened).toEqual([]);
    expect(history()).toEqual([]);
  });

  it("compares only through POST /api/diff with the page's Origin, one at a time, and not in --read-only (it writes and loads the colors)", async () => {
    let calls = 0;
    let finish: () => void = () => undefined;
    const diff = () => {
      calls += 1;
      return new Promise<DiffResult>((resolve) => (finish = () => resolve({} as DiffResult)));
    };
    await start({ diff });
    // A GET (a link, an <img>, a prefetch) never starts one.
    expect((await fetch(url('/api/diff'), { headers: withToken })).status).toBe(404);
    expect((await post('/api/diff', withToken)).status).toBe(403);
    expect((await post('/api/diff', { ...withToken, origin: 'http://evil.example' })).status).toBe(403);
    expect(calls).toBe(0);
    const first = post('/api/diff', { ...withToken, origin: origin() });
    while (calls === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const second = await post('/api/diff', { ...withToken, origin: origin() });
    expect(second.status).toBe(409);
    expect(await second.json()).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
    finish();
    expect((await first).status).toBe(200);
    expect(calls).toBe(1);
    await dashboard?.close();
    dashboard = undefined;
    await start({ diff, readOnly: true });
    const refused = await post('/api/diff', { ...withToken, origin: origin() });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: 'READ_ONLY' } });
    expect(calls).toBe(1);
  });

  it('streams server-sent events: a snapshot first, then what an action did', async () => {
    await start();
    const events: string[] = [];
    let text = '';
    const request = get(url('/api/events'), { headers: withToken });
    const response = await new Promise<import('node:http').IncomingMessage>((resolve) => request.once('response', resolve));
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    const finished = new Promise<void>((resolve) => {
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
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
    // Each event's data is what the contract says the page gets under that name.
    const messages = [...text.matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map(([, name = '', data = '']) => ({
      name,
      data: JSON.parse(data) as unknown,
    }));
    expect(messages.map((message) => message.name)).toEqual(events);
    for (const { name, data } of messages) expect(DashboardEvents[name as keyof typeof DashboardEvents].parse(data)).toEqual(data);
    request.destroy();
  });

  describe('canary start (a FAKE canary CLI process unless said otherwise)', () => {
    const startedWith = () =>
      JSON.parse(readFileSync(join(layout.stateDir, 'started-with.json'), 'utf8')) as { args: string[]; user: string; pid: number };
    afterEach(() => {
      // The fake canary waits for SIGTERM, as the real one does.
      if (existsSync(join(layout.stateDir, 'started-with.json'))) {
        try {
          process.kill(startedWith().pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    });

    it("starts `deploy canary` as its own process with the page's flags and the dashboard user, and answers once its run file names it", async () => {
      await start();
      const answer = await post(
        '/api/actions/canary',
        { ...withToken, origin: origin() },
        { color: 'green', steps: [25, 100], intervalSeconds: 2, expectVersion: 'v1.1.0' },
      );
      const body = (await json(answer, actionOutcome('canary'))) as {
        ok: boolean;
        result: { kind: string; pid: number; weight: number; log: string };
      };
      expect(answer.status).toBe(200);
      const child = startedWith();
      expect(body).toMatchObject({ ok: true, result: { kind: 'started', pid: child.pid, weight: 25, canary: 'green', stable: 'blue' } });
      expect(child.args).toEqual([
        'canary',
        '--color=green',
        '--steps=25,100',
        '--interval=2000ms',
        '--expect-version=v1.1.0',
        `--state-dir=${layout.stateDir}`,
        '--backend=local',
        '--json',
      ]);
      expect(child.user).toBe(USER);
      // Its progress is in its log in the state folder, and it outlives the request.
      expect(readFileSync(body.result.log, 'utf8')).toContain('step 1 of 2: green at 25%');
      expect(() => process.kill(child.pid, 0)).not.toThrow();
      expect(opened).toEqual(['canary']);
    });

    it("answers with the canary process's own refusal (409, its code and message) when it ends before its first step", async () => {
      await start();
      const answer = await post('/api/actions/canary', { ...withToken, origin: origin() }, { color: 'blue' });
      expect(answer.status).toBe(409);
      expect(await json(answer, actionOutcome('canary'))).toMatchObject({
        ok: false,
        error: { code: 'PREFLIGHT_FAILED', message: 'the fake gate refused blue' },
      });
    });

    it("the REAL CLI, as the dashboard starts it from another process: a canary on a stack that is not running answers the CLI's own error", async () => {
      await start({ cli: thisCli(WORKSPACE_ROOT) });
      const answer = await post(
        '/api/actions/canary',
        { ...withToken, origin: origin() },
        { color: 'green', steps: [50, 100], intervalSeconds: 1 },
      );
      const body = (await json(answer, actionOutcome('canary'))) as { ok: boolean; error: { code: string; message: string; hint: string } };
      expect({ status: answer.status, ok: body.ok }).toEqual({ status: 409, ok: false });
      expect(body.error).toMatchObject({
        code: 'STACK_NOT_RUNNING',
        message: expect.stringContaining(join(layout.stateDir, 'state.json')),
        hint: expect.stringContaining('deploy:up'),
      });
      expect(history()).toEqual([]);
    }, 60_000);

    it('refuses bad canary flags before starting anything (400)', async () => {
      await start();
      const answer = await post('/api/actions/canary', { ...withToken, origin: origin() }, { steps: ['five'] });
      expect(answer.status).toBe(400);
      expect(await answer.json()).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringContaining('steps') } });
      expect(existsSync(join(layout.stateDir, 'started-with.json'))).toBe(false);
    });
  });

  it('abort of an interrupted canary (split routes, nothing running) moves all traffic back through the canary command, recorded as the dashboard user', async () => {
    await start({ routes: { live: { blue: 75, green: 25 }, preview: { blue: 0, green: 100 } } });
    const answer = await post('/api/actions/canary-abort', { ...withToken, origin: origin() });
    expect(answer.status).toBe(200);
    expect(await json(answer, actionOutcome('canary-abort'))).toMatchObject({
      ok: true,
      result: { kind: 'aborted', stable: 'blue', canary: 'green', weight: 0 },
    });
    expect(await backend.readRoutes()).toEqual(routesWithLive('blue'));
    expect(history()).toMatchObject([{ command: 'canary', outcome: 'aborted', user: USER, stable: 'blue', canary: 'green' }]);
  });

  it('promote without a canary in progress is refused with CANARY_NOT_RUNNING and changes nothing', async () => {
    await start();
    const answer = await post('/api/actions/promote', { ...withToken, origin: origin() });
    expect(answer.status).toBe(409);
    expect(await json(answer, actionOutcome('promote'))).toMatchObject({ ok: false, error: { code: 'CANARY_NOT_RUNNING' } });
    expect(backend.moves).toEqual([]);
    expect(history()).toEqual([]);
  });

  it('shows the latest diff report kept in the state folder, and pushes a newer one as a diff event', async () => {
    await start();
    const kept = stateFolderStores(layout).lastDiff;
    // A real report of 7 pairs (the live color's and the candidate's answers agree).
    const side = { outputs: [[1]], latencyMs: 2 };
    const pairs = Array.from({ length: 7 }, (_, index) => ({ requestId: `r${index}`, live: side, candidate: side }));
    const sevenPairs = diffReport(pairs, {
      source: 'shadow',
      live: { color: 'blue', version: 'v1.0.0' },
      candidate: { color: 'green', version: 'v1.1.0' },
      tolerance: { absolute: 0.01, relative: 0 },
    });
    const report = (by: string, time: string): Parameters<typeof kept.write>[0] => ({
      time,
      by,
      user: 'ana',
      result: { report: sevenPairs, problems: ['too few pairs'], judged: true, notes: [] },
    });
    kept.write(report('prediction-diff gate of switch', '2026-12-01T10:00:00.000Z'));
    await feed.refreshStack();
    expect(await (await fetch(url('/api/state'), { headers: withToken })).json()).toMatchObject({
      diff: { by: 'prediction-diff gate of switch', user: 'ana', result: { report: { pairs: 7 } } },
    });

    const pushed: unknown[] = [];
    feed.subscribe((event) => event.kind === 'diff' && pushed.push(event.diff));
    kept.write(report('deploy diff', '2026-12-01T10:05:00.000Z'));
    await feed.refreshStack();
    await feed.refreshStack();
    expect(pushed).toMatchObject([{ by: 'deploy diff', time: '2026-12-01T10:05:00.000Z' }]);
  });

  it('does not start without the built page, and says how to build it', async () => {
    rmSync(join(assets, 'index.html'));
    await expect(start()).rejects.toMatchObject({ code: 'DASHBOARD_NOT_BUILT', hint: expect.stringContaining('nx run dashboard:build') });
  });
});

/** The fake deployment with its live route split (a canary interrupted at some weight). */
function splitBackend(base: ReturnType<typeof fakeBackend>, initial: Routes): ReturnType<typeof fakeBackend> {
  let routes = initial;
  const backend: Backend = {
    ...base,
    readRoutes: async () => routes,
    setRoutes: async (next) => {
      routes = next;
      await base.setRoutes(next);
    },
  };
  return Object.assign(backend, { moves: base.moves, live: base.live });
}
