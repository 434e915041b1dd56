import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePorts } from '../../effects/real-deps';
import { DEFAULT_DEPLOYMENT_SPEC } from '../../spec/deployment-spec';
import { WORKSPACE_ROOT } from '../../testing/stack-harness';
import { describeWithBinary, findBinary } from '../../testing/real-tools';
import { prometheusRule } from './kubernetes';
import { METRICS_SERVICE } from './kubernetes-names';
import { LIMITS, PREVIEW_HASH_ARG, analysisQueries, colorDown, errorRateByColor, p99ByColor, versionsPerColor } from './monitoring';

const PROMETHEUS = findBinary('prometheus');
const SERVICE_MAIN = join(WORKSPACE_ROOT, 'dist/apps/model-service/src/main.js');
/** The revision labels Argo Rollouts would put on each color's pods. */
const HASH = { blue: 'hash-blue', green: 'hash-green' } as const;
const LOAD_MS = 4_000;
/** The load goes on past LOAD_MS until green answered what the checks below count on (a busy machine answers fewer per second), up to this. */
const LOAD_MAX_MS = 20_000;
const LOAD_ENOUGH = { ok: 1_000, bad: 100 };
const LOAD_CONNECTIONS = 8;

interface Color {
  readonly name: string;
  readonly port: number;
  process?: ChildProcess;
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject).end();
  });
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function startColor(color: Color, as: 'blue' | 'green', model: string): ChildProcess {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_ENV' && !key.startsWith('JEST')));
  const child = spawn(process.execPath, [SERVICE_MAIN], {
    env: { ...env, HOST: '127.0.0.1', PORT: String(color.port), COLOR: as, MODEL_PATH: join(WORKSPACE_ROOT, model), LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  color.process = child;
  return child;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/** The /predict answers a color counted, from its own Prometheus text. */
function servedPredictions(metrics: string): number {
  let total = 0;
  for (const match of metrics.matchAll(/^http_requests_total\{[^}]*route="\/predict"[^}]*\} (\d+)$/gm)) total += Number(match[1]);
  return total;
}

/** One POST /predict, answered (any status). */
function postPredict(port: number, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/predict', method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => res.resume().on('end', () => resolve()),
    );
    req.on('error', reject).end(body);
  });
}

/**
 * POST /predict (3 rows) from a few keep-alive connections for LOAD_MS, and longer until green
 * answered more than LOAD_ENOUGH (at most LOAD_MAX_MS), plus one bad request in ten (422: a
 * client's mistake, never counted as an error). Returns the statuses seen.
 */
async function load(port: number): Promise<Record<number, number>> {
  const agent = new Agent({ keepAlive: true, maxSockets: LOAD_CONNECTIONS });
  const statuses: Record<number, number> = {};
  const started = Date.now();
  const enough = () => (statuses[200] ?? 0) > LOAD_ENOUGH.ok && (statuses[422] ?? 0) > LOAD_ENOUGH.bad;
  const going = () => Date.now() < started + LOAD_MS || (!enough() && Date.now() < started + LOAD_MAX_MS);
  const one = (body: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/predict', method: 'POST', agent, headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume().on('end', () => {
            statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.on('error', reject).end(body);
    });
  await Promise.all(
    Array.from({ length: LOAD_CONNECTIONS }, async () => {
      for (let i = 0; going(); i++) await one(i % 10 === 9 ? '{"features": [["x"]]}' : '{"features": [[1], [2], [3]]}');
    }),
  );
  agent.destroy();
  return statuses;
}

describeWithBinary(PROMETHEUS, 'prometheus')("the alerts' and the analysis' PromQL on a real Prometheus scraping real colors", () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlbg-prometheus-'));
  let prometheus: ChildProcess | undefined;
  let prometheusPort = 0;
  const colors: { blue: Color; green: Color; greenOnOldModel: Color } = {} as never;
  let loadStatuses: Record<number, number> = {};

  /** One instant query: each series' labels and value. */
  async function query(promql: string): Promise<{ labels: Record<string, string>; value: number }[]> {
    const answer = await get(prometheusPort, `/api/v1/query?query=${encodeURIComponent(promql)}`);
    const parsed = JSON.parse(answer.body) as {
      status: string;
      error?: string;
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (parsed.status !== 'success') throw new Error(`${promql}: ${parsed.error}`);
    return parsed.data.result.map((series) => ({ labels: series.metric, value: Number(series.value[1]) }));
  }
  /** Whether Prometheus's latest sample of green's /predict count is green's own count now. */
  const scrapedAll = async () => {
    const own = servedPredictions((await get(colors.green.port, '/metrics')).body);
    const [stored] = await query('sum(http_requests_total{color="green",route="/predict"})');
    return own > 0 && stored?.value === own ? true : undefined;
  };
  const byColor = async (promql: string) =>
    Object.fromEntries((await query(promql)).map((series) => [series.labels['color'], series.value]));
  const pendingOrFiring = async (alert: string) =>
    (await query(`ALERTS{alertname="${alert}"}`)).map((series) => series.labels['color']).sort();
  /** The AnalysisTemplate's queries for the pods of one revision, as Argo Rollouts sends them. */
  const analysisFor = (hash: string) =>
    analysisQueries().map((metric) => ({ ...metric, query: metric.query.replaceAll(`{{args.${PREVIEW_HASH_ARG}}}`, hash) }));

  beforeAll(async () => {
    if (!existsSync(SERVICE_MAIN))
      throw new Error(`${SERVICE_MAIN} is missing: run \`npx nx run model-service:build\` (nx test deploy does it).`);
    const [promPort, bluePort, greenPort, greenOldPort] = (await freePorts(4)) as [number, number, number, number];
    prometheusPort = promPort;
    colors.blue = { name: 'blue', port: bluePort };
    colors.green = { name: 'green', port: greenPort };
    colors.greenOnOldModel = { name: 'green (old model)', port: greenOldPort };
    const target = (color: Color, as: 'blue' | 'green') => ({
      targets: [`127.0.0.1:${color.port}`],
      labels: { color: as, rollouts_pod_template_hash: HASH[as] },
    });
    // What the ServiceMonitor makes of the pods: the job is the metrics Service, each series carries its pod's color (or revision).
    writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: prometheusRule(DEFAULT_DEPLOYMENT_SPEC).spec?.groups }));
    writeFileSync(
      join(dir, 'prometheus.yaml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [join(dir, 'rules.yaml')],
        scrape_configs: [
          {
            job_name: METRICS_SERVICE,
            static_configs: [target(colors.blue, 'blue'), target(colors.green, 'green'), target(colors.greenOnOldModel, 'green')],
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
    startColor(colors.blue, 'blue', 'models/v1.0.0/model.onnx');
    startColor(colors.green, 'green', 'models/v1.1.0/model.onnx');
    await waitFor('prometheus ready', async () => ((await get(prometheusPort, '/-/ready')).status === 200 ? true : undefined));
    for (const color of [colors.blue, colors.green])
      await waitFor(`${color.name} healthy`, async () => ((await get(color.port, '/health')).status === 200 ? true : undefined));
    // A rate needs a sample from before the load and one after it. Scrapes can fail while both
    // cores are busy, so wait for what Prometheus stored, not for a number of seconds: first a
    // sample of green's first answers, then one that holds every answer of the load.
    await postPredict(colors.green.port, '{"features": [[1]]}');
    await waitFor('prometheus stored green before the load', scrapedAll);
    loadStatuses = await load(colors.green.port);
    await waitFor('prometheus stored all of the load', scrapedAll);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([stop(colors.blue?.process), stop(colors.green?.process), stop(colors.greenOnOldModel?.process), stop(prometheus)]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the load reached green: thousands of 200s, the bad requests 422', () => {
    console.log(`load on green: ${JSON.stringify(loadStatuses)}`);
    expect(loadStatuses[200]).toBeGreaterThan(LOAD_ENOUGH.ok);
    expect(loadStatuses[422]).toBeGreaterThan(LOAD_ENOUGH.bad);
    expect(Object.keys(loadStatuses).sort()).toEqual(['200', '422']);
  });

  it("the analysis passes green's revision: success rate and p99 within the limits", async () => {
    const [success, p99] = analysisFor(HASH.green);
    const [rate] = await query(success?.query ?? '');
    const [latency] = await query(p99?.query ?? '');
    console.log(`analysis of green: success rate ${rate?.value}, p99 ${latency?.value} s`);
    // 4xx are the clients' mistakes, not the service's: green answered everything it should.
    expect(rate?.value).toBe(1);
    expect(success?.successCondition).toBe(`len(result) > 0 && result[0] >= ${LIMITS.successRate}`);
    expect(latency?.value).toBeGreaterThan(0);
    expect(latency?.value).toBeLessThanOrEqual(LIMITS.p99Seconds);
    expect(p99?.successCondition).toBe(`len(result) > 0 && result[0] <= ${LIMITS.p99Seconds}`);
  });

  it('the analysis fails a revision that had no traffic: no data is never a pass', async () => {
    for (const metric of analysisFor(HASH.blue)) {
      const result = await query(metric.query);
      // Empty (len(result) > 0 fails) or NaN (every comparison fails).
      expect(result.length === 0 || Number.isNaN(result[0]?.value)).toBe(true);
    }
  });

  it("the alerts' quantities: green 0 errors (0, not no data), p99 under the limit, one version per color, no alert", async () => {
    expect(await byColor(errorRateByColor())).toEqual({ green: 0 });
    const p99 = await byColor(p99ByColor());
    expect(p99['green']).toBeGreaterThan(0);
    expect(p99['green']).toBeLessThan(LIMITS.p99Seconds);
    expect(await byColor(versionsPerColor())).toEqual({ blue: 1, green: 1 });
    expect(await query(colorDown('blue'))).toEqual([]);
    expect(await query(colorDown('green'))).toEqual([]);
    for (const alert of ['MLModelHighErrorRate', 'MLModelHighLatency', 'MLModelColorDown', 'MLModelVersionMismatch'])
      expect(await pendingOrFiring(alert)).toEqual([]);
  });

  it('a color down: blue stopped, MLModelColorDown is pending for blue only', async () => {
    await stop(colors.blue.process);
    expect(
      await waitFor('MLModelColorDown', async () =>
        (await pendingOrFiring('MLModelColorDown')).length > 0 ? pendingOrFiring('MLModelColorDown') : undefined,
      ),
    ).toEqual(['blue']);
    // absent() of a comparison has no labels: the alert names the color by its rule's own `color` label.
    expect(await query(colorDown('blue'))).toEqual([{ labels: {}, value: 1 }]);
    expect(await query(colorDown('green'))).toEqual([]);
  }, 30_000);

  it('a version mismatch: a green pod on the old model beside the new one, MLModelVersionMismatch is pending for green', async () => {
    startColor(colors.greenOnOldModel, 'green', 'models/v1.0.0/model.onnx');
    await waitFor('the old green healthy', async () =>
      (await get(colors.greenOnOldModel.port, '/health')).status === 200 ? true : undefined,
    );
    expect(
      await waitFor('MLModelVersionMismatch', async () =>
        (await pendingOrFiring('MLModelVersionMismatch')).length > 0 ? pendingOrFiring('MLModelVersionMismatch') : undefined,
      ),
    ).toEqual(['green']);
    expect((await byColor(versionsPerColor()))['green']).toBe(2);
  }, 30_000);
});
