import type { Color } from '@mlbg/contract';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendStatus, ColorStatus } from '../backends/backend';
import { stackLayout } from '../backends/local/layout';
import { stateFolderStores } from '../commands/context';
import { freePort, realDeps } from '../effects/real-deps';
import { fakeBackend } from '../testing/fakes';
import type { HistoryEntry } from '../history/history';
import { routesWithLive } from '../routing/routes';
import { DashboardFeed, timeline } from './feed';
import type { TrafficPoint } from './traffic';

/** A stand-in color: a loopback HTTP server whose /metrics counts up by 10 /predict answers per scrape. */
function metricsServer(port: number): Promise<Server> {
  let requests = 0;
  const server = createServer((_request, response) => {
    requests += 10;
    response.end(
      `http_requests_total{route="/predict",method="POST",status="200"} ${requests}\nhttp_request_duration_seconds_bucket{le="0.001",route="/predict",method="POST",status="200"} ${requests}\nhttp_request_duration_seconds_bucket{le="+Inf",route="/predict",method="POST",status="200"} ${requests}\n`,
    );
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

describe("the dashboard feed (a stand-in color's /metrics on loopback; a fake deployment)", () => {
  let dir: string;
  let server: Server | undefined;
  let feed: DashboardFeed | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlbg-feed-'));
  });
  afterEach(async () => {
    feed?.stop();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps going when a color goes away and comes back: points, then gaps, then points again', async () => {
    const port = await freePort();
    server = await metricsServer(port);
    const layout = stackLayout(dir, join(dir, 'state'), dir);
    mkdirSync(layout.stateDir, { recursive: true });
    const color = (name: Color): ColorStatus => ({
      color: name,
      role: name === 'blue' ? 'live' : 'preview',
      process: 'running',
      pid: null,
      port: name === 'blue' ? port : null,
      url: name === 'blue' ? `http://127.0.0.1:${port}` : null,
      model: null,
      health: { ok: true, httpStatus: 200, status: 'ok', version: 'v1.0.0', color: name, featureCount: 1 },
    });
    const status: BackendStatus = {
      backend: 'local',
      where: dir,
      stack: 'running',
      healthy: true,
      routes: null,
      live: 'blue',
      preview: 'green',
      router: null,
      colors: { blue: color('blue'), green: color('green') },
      notes: [],
    };
    const backend = {
      ...fakeBackend({
        live: 'blue',
        colors: { blue: { version: 'v1.0.0', featureCount: 1 }, green: { version: 'v1.1.0', featureCount: 1 } },
      }),
      status: async () => status,
    };
    const deps = realDeps({ workspaceRoot: dir, env: {}, progress: () => undefined });
    feed = new DashboardFeed({
      openContext: async () => ({
        backend,
        ...stateFolderStores(layout),
        clock: deps.clock,
        userName: 'tester',
        progress: () => undefined,
        preflight: [],
      }),
      http: deps.http,
      clock: deps.clock,
      timing: { sampleMs: 50, statusMs: 50 },
    });
    const blue: (TrafficPoint | 'gap')[] = [];
    const next = (predicate: () => boolean) =>
      new Promise<void>((resolve) => {
        const unsubscribe = feed?.subscribe((event) => {
          if (event.kind !== 'sample') return;
          blue.push(event.sample.blue ?? 'gap');
          if (predicate()) {
            unsubscribe?.();
            resolve();
          }
        });
      });
    feed.start();
    await next(() => blue.some((point) => point !== 'gap' && point.rps > 0));
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
    const gapsFrom = blue.length;
    await next(() => blue.length >= gapsFrom + 3);
    expect(blue.slice(gapsFrom + 1)).toEqual(['gap', 'gap']);
    server = await metricsServer(port);
    await next(() => blue.slice(gapsFrom).some((point) => point !== 'gap' && point.rps > 0));
    // The first answer after the gap has nothing to compare with; the one after it is a rate again.
    expect(feed.snapshot().stack.error).toBeNull();
    expect(feed.snapshot().samples.length).toBe(blue.length);
  });
});

describe('the timeline of the history', () => {
  const stamp = { schemaVersion: 2 as const, user: 'ana', backend: 'local' as const, durationMs: 1, gates: [] };
  const intent = (time: string): HistoryEntry => ({
    ...stamp,
    time,
    command: 'switch-intent',
    outcome: 'intended',
    from: 'blue',
    to: 'green',
    routes: routesWithLive('green'),
  });
  const down: HistoryEntry = { ...stamp, time: 't0', command: 'down', outcome: 'stopped' };

  it('hides the intent line of a switch that recorded its outcome, and shows one whose command was killed', () => {
    const settled: HistoryEntry = {
      ...stamp,
      time: 't2',
      command: 'reconcile',
      from: 'blue',
      to: 'green',
      outcome: 'flipped',
      routes: routesWithLive('green'),
    };
    expect(timeline([down, intent('t1'), settled]).map((entry) => entry.command)).toEqual(['down', 'reconcile']);
    expect(timeline([down, intent('t1')]).map((entry) => entry.command)).toEqual(['down', 'switch-intent']);
  });
});
