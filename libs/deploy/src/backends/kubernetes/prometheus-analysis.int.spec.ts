import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Color } from '@mlbg/contract';
import { freePorts, httpClient } from '../../effects/real-deps';
import type { ColorSample } from '../../gates/analysis/analysis';
import { sampleOfServed } from '../../gates/analysis/served';
import { judgeInterval } from '../../gates/judge/judge';
import { judgeLimits } from '../../gates/judge/limits';
import { colorWindow } from '../../gates/judge/records-source';
import type { Judgement } from '../../gates/judge/verdict';
import { METRICS_SERVICE } from '../../render/kubernetes/kubernetes-names';
import { DeploymentSpec } from '../../spec/deployment-spec';
import { oneRowModel, slowModel, writeModel } from '../../testing/fault-models';
import { describeWithBinary, findBinary } from '../../testing/real-tools';
import { WORKSPACE_ROOT } from '../../testing/stack-harness';
import type { ChartSample, TrafficMeter } from '../backend';
import { prometheusClient } from './prometheus';
import { prometheusCharts } from './prometheus-charts';
import { prometheusMeter } from './prometheus-meter';

const PROMETHEUS = findBinary('prometheus');
const SERVICE_MAIN = join(WORKSPACE_ROOT, 'dist/apps/model-service/src/main.js');
const SCRAPE_MS = 1_000;
const LOAD_MS = 5_000;
const CONNECTIONS = 4;
/** Of the requests each color gets, this share has two rows (the one-row model answers those 500). */
const TWO_ROW_SHARE = 0.1;
const clock = { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) };

interface ColorProcess {
  readonly color: Color;
  readonly port: number;
  process?: ChildProcess;
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await clock.sleep(200);
  }
}

async function startColor(color: ColorProcess, model: string): Promise<void> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_ENV' && !key.startsWith('JEST')));
  color.process = spawn(process.execPath, [SERVICE_MAIN], {
    env: {
      ...env,
      HOST: '127.0.0.1',
      PORT: String(color.port),
      COLOR: color.color,
      MODEL_PATH: model,
      LOG_LEVEL: 'warn',
      LOG_REQUESTS: 'false',
    },
    stdio: 'ignore',
  });
  await waitFor(`${color.color} healthy`, async () => (await get(color.port, '/health')).status === 200);
}

async function stopColor(color: ColorProcess | undefined): Promise<void> {
  const child = color?.process;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/** What the load sent one color: every request and its status. */
interface Sent {
  requests: number;
  byStatus: Record<number, number>;
}

/** /predict to both colors at once from a few keep-alive connections each; one request in ten has two rows. */
async function load(colors: readonly ColorProcess[]): Promise<Record<Color, Sent>> {
  const sent: Record<Color, Sent> = { blue: { requests: 0, byStatus: {} }, green: { requests: 0, byStatus: {} } };
  const until = Date.now() + LOAD_MS;
  await Promise.all(
    colors.map(async (color) => {
      const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
      const one = (body: string) =>
        new Promise<void>((resolve, reject) => {
          request(
            {
              host: '127.0.0.1',
              port: color.port,
              path: '/predict',
              method: 'POST',
              agent,
              headers: { 'content-type': 'application/json' },
            },
            (res) =>
              res.resume().on('end', () => {
                const mine = sent[color.color];
                mine.requests += 1;
                mine.byStatus[res.statusCode ?? 0] = (mine.byStatus[res.statusCode ?? 0] ?? 0) + 1;
                resolve();
              }),
          )
            .on('error', reject)
            .end(body);
        });
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          for (let i = 0; Date.now() < until; i++)
            await one(i % Math.round(1 / TWO_ROW_SHARE) === 0 ? '{"features": [[1], [2]]}' : `{"features": [[${(i % 7) + 0.5}]]}`);
        }),
      );
      agent.destroy();
    }),
  );
  return sent;
}

describeWithBinary(PROMETHEUS, 'prometheus')(
  "the Kubernetes canary's analysis and the dashboard's charts on a real Prometheus scraping real colors under load",
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlbg-prometheus-analysis-'));
    let prometheus: ChildProcess | undefined;
    const blue = { color: 'blue', port: 0 } as ColorProcess;
    const green = { color: 'green', port: 0 } as ColorProcess;
    let client: ReturnType<typeof prometheusClient>;
    let meter: TrafficMeter;

    beforeAll(async () => {
      if (!existsSync(SERVICE_MAIN))
        throw new Error(`${SERVICE_MAIN} is missing: run \`npx nx run model-service:build\` (nx test deploy does it).`);
      const [prometheusPort, bluePort, greenPort] = (await freePorts(3)) as [number, number, number];
      Object.assign(blue, { port: bluePort });
      Object.assign(green, { port: greenPort });
      // What the ServiceMonitor makes of the pods: the job is the metrics Service; each series has its pod and color.
      const target = (color: ColorProcess) => ({
        targets: [`127.0.0.1:${color.port}`],
        labels: { color: color.color, pod: `ml-model-service-${color.color}-0` },
      });
      writeFileSync(
        join(dir, 'prometheus.yaml'),
        stringify({
          global: { scrape_interval: `${SCRAPE_MS / 1000}s` },
          scrape_configs: [{ job_name: METRICS_SERVICE, static_configs: [target(blue), target(green)] }],
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
      const base = { host: '127.0.0.1', port: prometheusPort };
      client = prometheusClient((path) => httpClient(base, { method: 'GET', path }), `Prometheus at 127.0.0.1:${prometheusPort}`);
      meter = prometheusMeter(client, clock, SCRAPE_MS, { stable: 'blue', canary: 'green' });
      await startColor(blue, join(WORKSPACE_ROOT, 'models/v1.0.0/model.onnx'));
      await waitFor('prometheus ready', async () => (await get(prometheusPort, '/-/ready')).status === 200);
    }, 60_000);

    afterAll(async () => {
      await Promise.all([stopColor(blue), stopColor(green)]);
      if (prometheus && prometheus.exitCode === null) {
        prometheus.kill('SIGTERM');
        await once(prometheus, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    });

    /** What the judge says of one window: its counts per color and the judgement (the spec's default limits; no answers read here). */
    interface Analysis {
      readonly canary: ColorSample;
      readonly stable: ColorSample;
      readonly judgement: Judgement;
    }

    /** Green on `model`, both colors under load inside one meter window; the judge on the window with the spec's default limits. */
    async function canaryWindow(model: string): Promise<{ sent: Record<Color, Sent>; analysis: Analysis; startedAt: number }> {
      await stopColor(green);
      await startColor(green, model);
      // Both colors scraped since green started, so the window's first mark has green's pod.
      await waitFor('green scraped', async () => (await client.query(`up{pod="ml-model-service-green-0"} == 1`)).length === 1);
      const startedAt = Date.now();
      await meter.begin(25);
      const sent = await load([blue, green]);
      const { served, notes } = await meter.end();
      expect(notes).toEqual([]);
      const judgement = judgeInterval(
        { canary: colorWindow('green', served.green, []), stable: colorWindow('blue', served.blue, []), pairs: [] },
        { ...judgeLimits(DeploymentSpec.parse({})), outputs: null },
      );
      const analysis = { canary: sampleOfServed('green', served.green), stable: sampleOfServed('blue', served.blue), judgement };
      console.log(
        `${model.split('/').pop()}: sent ${JSON.stringify(sent)}; measured green ${JSON.stringify(analysis.canary)}, blue ${JSON.stringify(analysis.stable)}; ${judgement.verdict} ${failedChecks(analysis).join(', ')}`,
      );
      return { sent, analysis, startedAt };
    }

    const failedChecks = (analysis: Analysis) =>
      analysis.judgement.checks.filter((check) => check.verdict === 'fail').map((check) => check.name);

    it("a healthy canary (v1.0.0 on green too): every request counted exactly from the colors' counters, and it passes", async () => {
      const { sent, analysis } = await canaryWindow(join(WORKSPACE_ROOT, 'models/v1.0.0/model.onnx'));
      expect(analysis.canary.requests).toBe(sent.green.requests);
      expect(analysis.stable.requests).toBe(sent.blue.requests);
      expect([analysis.canary.errors, analysis.stable.errors]).toEqual([0, 0]);
      expect(analysis.judgement.verdict).toBe('pass');
    }, 90_000);

    let errorsWindow = 0;
    it('a canary answering 5xx (one-row model: its two-row answers are refused) fails the error checks, its 5xx counted exactly', async () => {
      const dirModel = writeModel(dir, 'one-row', oneRowModel('v9.0.1'));
      const { sent, analysis, startedAt } = await canaryWindow(dirModel);
      errorsWindow = startedAt;
      expect(sent.green.byStatus[500]).toBeGreaterThan(0);
      expect(analysis.canary.errors).toBe(sent.green.byStatus[500]);
      expect(analysis.canary.requests).toBe(sent.green.requests);
      expect(analysis.judgement.verdict).toBe('fail');
      // Both error checks: against the stable's share (Fisher) and against the ceiling (binomial), on exact counts.
      expect(failedChecks(analysis)).toEqual(expect.arrayContaining(['error-share', 'error-ceiling']));
    }, 90_000);

    it('a slow canary (a model that multiplies large matrices on every request) fails the latency test against the stable color on the histogram buckets, and not the error checks', async () => {
      const { analysis } = await canaryWindow(writeModel(dir, 'slow', slowModel('v9.0.2', 500)));
      expect(analysis.canary.errors).toBe(0);
      expect(analysis.judgement.verdict).toBe('fail');
      expect(failedChecks(analysis)).toContain('latency');
      expect(analysis.judgement.checks.find((check) => check.name === 'latency')?.test).toContain('on histogram buckets');
      expect(failedChecks(analysis).filter((name) => name.startsWith('error'))).toEqual([]);
      expect(analysis.canary.p99Ms ?? 0).toBeGreaterThan(analysis.stable.p99Ms ?? Infinity);
    }, 90_000);

    it("the dashboard's charts from range queries: each color's requests/s, 5xx share and p50/p99 over the windows above", async () => {
      const samples: readonly ChartSample[] = await prometheusCharts(client, SCRAPE_MS).range(errorsWindow - 10_000, Date.now());
      const withTraffic = samples.filter((sample) => sample.blue && sample.blue.rps > 0);
      expect(withTraffic.length).toBeGreaterThan(5);
      const greenErrors = Math.max(...samples.map((sample) => sample.green?.errorShare ?? 0));
      expect(greenErrors).toBeGreaterThan(0.02);
      expect(Math.max(...samples.map((sample) => sample.blue?.errorShare ?? 0))).toBe(0);
      const p99 = (color: Color) => Math.max(...samples.map((sample) => sample[color]?.p99Ms ?? 0));
      // The slow window: green's p99 well above blue's; every p50 at most its p99.
      expect(p99('green')).toBeGreaterThan(p99('blue'));
      for (const sample of samples)
        for (const point of [sample.blue, sample.green])
          if (point?.p50Ms != null && point.p99Ms != null) expect(point.p50Ms).toBeLessThanOrEqual(point.p99Ms);
    }, 30_000);
  },
);
