import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { stackLayout } from '../backends/local/layout';
import { type CommandContext, stateFolderStores } from '../commands/context';
import { freePort } from '../effects/real-deps';
import { gatesNamed } from '../gates';
import { judgementGates } from '../gates/judge/describe';
import { judgeInterval } from '../gates/judge/judge';
import { judgeLimits } from '../gates/judge/limits';
import { HISTORY_SCHEMA_VERSION } from '../history/history';
import { routesWithLive } from '../routing/routes';
import { DEFAULT_PREFLIGHT_GATES, DeploymentSpec } from '../spec/deployment-spec';
import { fakeBackend, fakeClock } from '../testing/fakes';
import { seededRandom, simulatedWindow } from '../testing/judge-traffic';
import { describeWithBinary, findBinary } from '../testing/real-tools';
import { DashboardFeed } from './feed';
import { type RunningDashboard, startDashboard } from './server';

jest.setTimeout(60_000);
const PROMETHEUS = findBinary('prometheus');
const TOKEN = 'b'.repeat(48);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithBinary(PROMETHEUS, 'prometheus')("the canary judge's last verdict, scraped from the dashboard by a real Prometheus", () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlbg-judge-metrics-'));
  let dashboard: RunningDashboard | undefined;
  let prometheus: ChildProcess | undefined;
  let prometheusPort = 0;

  beforeAll(async () => {
    const layout = stackLayout(dir, join(dir, 'state'), dir);
    mkdirSync(layout.stateDir, { recursive: true });
    const assets = join(dir, 'assets');
    mkdirSync(assets);
    writeFileSync(join(assets, 'index.html'), '<!doctype html><title>test page</title>');
    const stores = stateFolderStores(layout);
    // A canary rolled back on its answers: the slope negated against the honest model, as the history keeps it.
    const judgement = judgeInterval(
      simulatedWindow({
        canary: (row) => [-4.97 * (row[0] ?? 0) - 1.95],
        stable: (row) => [4.97 * (row[0] ?? 0) - 1.95],
        canarySize: { requests: 150, rows: 400 },
        stableSize: { requests: 150, rows: 400 },
        traffic: { bodies: [[[1]], [[2]], [[3]]], errorShare: 0, medianMs: 2 },
        random: seededRandom(9),
      }),
      judgeLimits(DeploymentSpec.parse({})),
    );
    await stores.history.append({
      schemaVersion: HISTORY_SCHEMA_VERSION,
      time: new Date().toISOString(),
      user: 'tester',
      backend: 'local',
      durationMs: 9000,
      command: 'canary',
      outcome: 'rolled-back',
      stable: 'blue',
      canary: 'green',
      stableVersion: 'v1.0.0',
      canaryVersion: 'v1.0.1',
      steps: [25, 100],
      intervalMs: 3000,
      weight: 0,
      intervals: [
        {
          weight: 25,
          startedAt: new Date(Date.now() - 5000).toISOString(),
          durationMs: 4200,
          verdict: judgement.verdict,
          canary: { color: 'green', requests: 150, errors: 0, errorRate: 0, p99Ms: 3, metrics: null },
          stable: { color: 'blue', requests: 150, errors: 0, errorRate: 0, p99Ms: 3, metrics: null },
          probesSent: 0,
          checks: judgementGates(judgement),
          judgement,
        },
      ],
      routes: routesWithLive('blue'),
    });
    const backend = fakeBackend({
      live: 'blue',
      colors: { blue: { version: 'v1.0.0', featureCount: 1 }, green: { version: 'v1.0.1', featureCount: 1 } },
    });
    const context = (): CommandContext => ({
      backend,
      ...stores,
      clock: fakeClock(),
      userName: 'tester',
      progress: () => undefined,
      preflight: gatesNamed(DEFAULT_PREFLIGHT_GATES),
    });
    const feed = new DashboardFeed({
      openContext: async () => context(),
      http: async () => Promise.reject(new Error('no http in this test')),
      clock: fakeClock(),
    });
    await feed.refreshStack();
    dashboard = await startDashboard({
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      readOnly: true,
      assetsDir: assets,
      backend: 'local',
      userName: 'tester',
      feed,
      actionEnv: { spec: () => DeploymentSpec.parse({}), workspaceRoot: dir, startCanary: () => Promise.reject(new Error('not here')) },
      diff: async () => Promise.reject(new Error('not here')),
      openContext: async () => context(),
    });
    prometheusPort = await freePort();
    const target = new URL(dashboard.url);
    writeFileSync(
      join(dir, 'prometheus.yaml'),
      stringify({
        global: { scrape_interval: '1s' },
        scrape_configs: [
          {
            job_name: 'mlbg-dashboard',
            // The dashboard's token, as every request to it needs.
            authorization: { type: 'Bearer', credentials: TOKEN },
            static_configs: [{ targets: [target.host] }],
          },
        ],
      }),
    );
    prometheus = spawn(
      PROMETHEUS as string,
      [
        `--config.file=${join(dir, 'prometheus.yaml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${prometheusPort}`,
        '--log.level=error',
      ],
      { stdio: 'ignore' },
    );
  }, 60_000);

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    await dashboard?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function query(promql: string): Promise<{ labels: Record<string, string>; value: number }[]> {
    const answer = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const parsed = (await answer.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    return parsed.data.result.map((series) => ({ labels: series.metric, value: Number(series.value[1]) }));
  }

  it('says which check failed, with its p-value and sample size, to an alert or an AnalysisTemplate', async () => {
    const deadline = Date.now() + 30_000;
    let failing: { labels: Record<string, string>; value: number }[] = [];
    while (Date.now() < deadline) {
      failing = await query('mlbg_canary_check_verdict{verdict="fail"} == 1').catch(() => []);
      if (failing.length > 0) break;
      await sleep(500);
    }
    expect(failing.map((series) => series.labels['check'])).toEqual(['output-distribution']);
    expect(failing[0]?.labels).toMatchObject({ job: 'mlbg-dashboard', aspect: 'outputs' });
    const [p] = await query('mlbg_canary_check_adjusted_p_value{check="output-distribution"}');
    expect(p?.value).toBeLessThan(0.01);
    const samples = await query('mlbg_canary_check_samples{check="output-distribution"}');
    expect(samples.map((series) => series.labels['color']).sort()).toEqual(['canary', 'stable']);
    expect(samples.every((series) => series.value >= 400)).toBe(true);
    expect((await query('mlbg_canary_judge_verdict{verdict="fail"}'))[0]?.value).toBe(1);
    expect((await query('mlbg_canary_judge_info'))[0]?.labels).toMatchObject({ canary: 'green', canary_version: 'v1.0.1' });
  });
});
