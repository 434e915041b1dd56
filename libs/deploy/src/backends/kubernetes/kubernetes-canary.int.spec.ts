import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PredictionRecord } from '@mlbg/contract';
import { parseHistory } from '../../history/history';
import { FakeKubeApi, fakeKubeconfig } from '../../testing/fake-kube-api';
import { type ColorBehaviour, FakePrometheus } from '../../testing/fake-prometheus';
import { DEFAULT_PREDICTION_DIFF } from '../../spec/deployment-spec';
import { WORKSPACE_ROOT } from '../../testing/stack-harness';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies, read field by field as the tests need
type Json = any;

/**
 * The canary, shadow traffic and the diff on Kubernetes: the real CLI (`node libs/deploy/src/cli/main.ts
 * ... --backend=kubernetes`, the real @kubernetes/client-node) against a fake API server and a fake
 * Prometheus on loopback ports, whose traffic follows the route's weights. One fake cluster per test.
 */
let api: FakeKubeApi;
let prometheus: FakePrometheus;
let dir: string;
let env: Record<string, string>;
const behaviour: Record<'blue' | 'green', ColorBehaviour> = {
  blue: { errorShare: 0, latency: 0.005 },
  green: { errorShare: 0, latency: 0.005 },
};

beforeEach(async () => {
  behaviour.blue = { errorShare: 0, latency: 0.005 };
  behaviour.green = { errorShare: 0, latency: 0.005 };
  api = new FakeKubeApi();
  const server = await api.start();
  prometheus = new FakePrometheus({
    rps: 400,
    shares: () => api.liveShares(),
    pods: (color) => api.podNames(color),
    behaviour,
  });
  const prometheusUrl = await prometheus.start();
  dir = mkdtempSync(join(tmpdir(), 'mlbg-kube-canary-'));
  writeFileSync(join(dir, 'kubeconfig'), fakeKubeconfig(server));
  env = {
    PATH: process.env['PATH'] ?? '',
    HOME: dir,
    SWC_NODE_PROJECT: 'libs/deploy/tsconfig.lib.json',
    KUBECONFIG: join(dir, 'kubeconfig'),
    BLUEGREEN_PROMETHEUS_URL: prometheusUrl,
    // A running canary's progress and the latest diff stay in this machine's state folder: a test's own.
    BLUEGREEN_STATE_DIR: join(dir, 'state'),
  };
});

afterEach(async () => {
  await api.stop();
  await prometheus.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stderr: string;
  json: { ok: boolean; result: Json; error?: { code: string; message: string; hint: string } };
}

const CLI = ['-r', '@swc-node/register', 'libs/deploy/src/cli/main.ts'];

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...CLI, ...args, '--backend=kubernetes', '--json'],
      { cwd: WORKSPACE_ROOT, env, timeout: 120_000 },
      (error, stdout, stderr) => {
        let json: Run['json'];
        try {
          json = JSON.parse(stdout);
        } catch {
          throw new Error(`not JSON (exit ${error?.code}): ${stdout}\n${stderr}`);
        }
        resolve({ code: error ? Number(error.code) : 0, stderr, json });
      },
    );
  });
}

const history = () => parseHistory(api.configMaps.get('ml-deploy-history')?.body['data']?.['history.jsonl'] ?? '').entries;
const selectors = () => ({
  live: api.services.get('ml-live')?.selector['color'],
  preview: api.services.get('ml-preview')?.selector['color'],
});
/** Every weight the route was patched to, in order: [ml-live, ml-preview]. */
const routePatches = () => api.writes().filter((write) => write.startsWith('PATCH') && write.includes('/httproutes/'));
const until = async (what: string, check: () => boolean, timeoutMs = 60_000) => {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('deploy:canary --backend=kubernetes (fake API server, fake Prometheus following the route)', () => {
  it("a whole canary: each step moves the HTTPRoute weights, each interval is judged on the colors' Prometheus counters, the promotion moves ml-live, then the weights, then ml-preview", async () => {
    const seen: { live: number; preview: number }[] = [];
    const watch = setInterval(() => {
      const weights = api.routeWeights();
      if (weights && JSON.stringify(seen.at(-1)) !== JSON.stringify(weights)) seen.push(weights);
    }, 20);
    // A gateway writes the route's status all the time: a new resourceVersion, not someone else's change.
    const gateway = setInterval(() => api.touchRouteStatus(), 300);
    // ... and one such write lands between the first step's read of the route and its patch.
    api.before('PATCH', /\/httproutes\//, () => api.touchRouteStatus());
    const run = await cli(['canary', '--steps=25,50,100', '--interval=2s']).finally(() => {
      clearInterval(watch);
      clearInterval(gateway);
    });
    // On a failure, the CLI's progress lines (one per interval and check) say why.
    expect({ code: run.code, error: run.json.error, stderr: run.code === 0 ? '' : run.stderr }).toEqual({
      code: 0,
      error: undefined,
      stderr: '',
    });
    expect(run.json.result).toMatchObject({ kind: 'promoted', stable: 'blue', canary: 'green', weight: 100 });
    expect(seen).toEqual([
      { live: 100, preview: 0 },
      { live: 75, preview: 25 },
      { live: 50, preview: 50 },
      { live: 100, preview: 0 },
    ]);
    expect(selectors()).toEqual({ live: 'green', preview: 'blue' });
    // Each patch carried the resourceVersion it read, under this tool's field manager: the first met the status write made
    // just before it (409) and was sent again on the route as it was then, as was any other a status write got ahead of.
    const statuses = routePatches().map((write) => write.split(' ').at(-1));
    expect(statuses[0]).toBe('409');
    expect(statuses.filter((status) => status === '200')).toHaveLength(3);
    expect(statuses.filter((status) => status !== '200' && status !== '409')).toEqual([]);
    expect(api.httpRoute?.managedFields.filter((entry) => entry.manager === 'mlbg-deploy')).toHaveLength(3);
    const promoted = history().find((entry) => entry.command === 'canary' && entry.outcome === 'promoted') as Json;
    expect(promoted.backend).toBe('kubernetes');
    // The fake pods keep no records: the answers are judged on replayed pairs (deploy/deployment.json leaves predictionDiff
    // at its defaults), and an interval short of them asks for all it misses (canary-interval.ts), so each step passes on
    // its first interval however slowly this machine answers.
    expect(promoted.intervals.map((interval: Json) => [interval.weight, interval.verdict, interval.replayed])).toEqual([
      [25, 'pass', DEFAULT_PREDICTION_DIFF.minPairs],
      [50, 'pass', DEFAULT_PREDICTION_DIFF.minPairs],
    ]);
    // The counts are the colors' own (Prometheus), split as the route split the traffic.
    const [first] = promoted.intervals;
    expect(first.canary).toMatchObject({ color: 'green', errors: 0, metrics: null });
    expect(first.canary.requests).toBeGreaterThan(100);
    expect(first.stable.requests).toBeGreaterThan(2 * first.canary.requests);
    expect(
      prometheus.queries.some((query) => query.startsWith('sum by (pod, status) (http_requests_total{job="ml-model-service-metrics"')),
    ).toBe(true);
  }, 120_000);

  it('a conflicting route edit: someone changes the HTTPRoute mid-canary; the canary does not overwrite it, says who, and exits non-zero', async () => {
    const child = cli(['canary', '--steps=50,100', '--interval=3s']);
    await until('the first step', () => api.routeWeights()?.preview === 50);
    api.editRoute('kubectl-edit', (spec) => {
      for (const rule of spec.rules)
        for (const ref of rule.backendRefs ?? []) if (ref.weight !== undefined) ref.weight = ref.name === 'ml-live' ? 90 : 10;
    });
    const run = await child;
    expect(run.code).toBe(1);
    expect(run.json.result ?? run.json.error).toBeDefined();
    const text = JSON.stringify(run.json);
    expect(text).toContain('was changed by `kubectl-edit`');
    expect(text).toContain('it was not overwritten');
    // Their edit stands: no write of this tool after theirs.
    expect(api.routeWeights()).toEqual({ live: 90, preview: 10 });
    expect(api.httpRoute?.managedFields.at(-1)?.manager).toBe('kubectl-edit');
    expect(history().at(-1)).toMatchObject({ command: 'canary', outcome: 'broken' });
  }, 120_000);

  it('a failing verdict: green answers 5xx, the intervals fail, all traffic goes back to blue, CANARY_FAILED', async () => {
    behaviour.green = { errorShare: 0.3, latency: 0.005 };
    const run = await cli(['canary', '--steps=25,100', '--interval=2s']);
    expect(run.code).toBe(1);
    expect(run.json.error?.code).toBe('CANARY_FAILED');
    expect(run.json.result).toMatchObject({ kind: 'rolled-back', weight: 0 });
    expect(api.routeWeights()).toEqual({ live: 100, preview: 0 });
    expect(selectors()).toEqual({ live: 'blue', preview: 'green' });
    const entry = history().at(-1) as Json;
    expect(entry).toMatchObject({ command: 'canary', outcome: 'rolled-back' });
    expect(entry.intervals.map((interval: Json) => [interval.weight, interval.verdict])).toEqual([
      [25, 'fail'],
      [25, 'fail'],
    ]);
    // The judge's error checks, on the counters' exact counts: against the stable's share and against the ceiling.
    expect(entry.intervals[0].checks.filter((check: Json) => !check.ok).map((check: Json) => check.name)).toEqual(
      expect.arrayContaining(['error-share', 'error-ceiling']),
    );
  }, 120_000);

  it('a killed CLI, then --resume: the canary goes on from the weight the route has, under a Lease taken over from the dead process', async () => {
    const child: ChildProcess = spawn(process.execPath, [...CLI, 'canary', '--steps=50,100', '--interval=4s', '--backend=kubernetes'], {
      cwd: WORKSPACE_ROOT,
      env,
      stdio: 'ignore',
    });
    await until('the first step', () => api.routeWeights()?.preview === 50);
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(api.leases.get('ml-deploy-lock')?.body['spec']?.holderIdentity).toMatch(/^canary by .* \(pid \d+, pid:\[\d+\]\)$/);
    const resumed = await cli(['canary', '--resume']);
    expect({ code: resumed.code, error: resumed.json.error }).toEqual({ code: 0, error: undefined });
    expect(resumed.json.result).toMatchObject({ kind: 'promoted', canary: 'green' });
    expect(selectors()).toEqual({ live: 'green', preview: 'blue' });
    expect(api.routeWeights()).toEqual({ live: 100, preview: 0 });
    const canaryLines = history().filter((entry) => entry.command === 'canary');
    expect(canaryLines.map((entry) => [entry.outcome, (entry as Json).resumed])).toEqual([
      ['started', false],
      ['started', true],
      ['promoted', true],
    ]);
  }, 120_000);
});

describe('deploy:shadow and deploy:diff --backend=kubernetes (fake API server)', () => {
  it('shadow on scales the relay to one pod with the percent, then mirrors /predict and V2 to it; status reads it; off removes the mirror, then the pod', async () => {
    // A gateway's status write lands between the read of the route and the mirror's patch: patched again, not refused.
    api.before('PATCH', /\/httproutes\//, () => api.touchRouteStatus());
    const on = await cli(['shadow', 'on', '--percent=30']);
    expect({ code: on.code, error: on.json.error }).toEqual({ code: 0, error: undefined });
    expect(on.json.result).toMatchObject({ on: true, percent: 30, relay: { forwarded: 40 } });
    const relay = api.deployments.get('ml-shadow-relay');
    expect([relay?.replicas, relay?.env['RELAY_PERCENT']]).toEqual([1, '30']);
    const mirrored = api.httpRoute?.spec.rules
      .filter((rule: Json) => (rule.filters ?? []).some((filter: Json) => filter.type === 'RequestMirror'))
      .map((rule: Json) => rule.matches[0].path.value);
    expect(mirrored).toEqual(['/predict', '/v2/models/']);
    const status = await cli(['shadow', 'status']);
    expect(status.json.result).toMatchObject({ on: true, percent: 30 });
    // The relay went up before the route mirrored to it.
    const writes = api.writes();
    expect(writes.findIndex((write) => write.includes('/deployments/ml-shadow-relay'))).toBeLessThan(
      writes.findIndex((write) => write.includes('/httproutes/')),
    );
    const off = await cli(['shadow', 'off']);
    expect(off.code).toBe(0);
    expect(off.json.result).toMatchObject({ on: false, final: { forwarded: 40 } });
    expect(JSON.stringify(api.httpRoute?.spec)).not.toContain('RequestMirror');
    expect(api.deployments.get('ml-shadow-relay')?.replicas).toBe(0);
    expect(history().map((entry) => [entry.command, 'outcome' in entry ? entry.outcome : null])).toEqual([
      ['shadow', 'on'],
      ['shadow', 'off'],
    ]);
  }, 120_000);

  it("diff joins each pod's records through the pod proxy: blue's live answers with green's shadow copies, across both colors' pods", async () => {
    const record = (seq: number, requestId: string, value: number, shadow: boolean): PredictionRecord => ({
      seq,
      requestId,
      time: new Date(Date.UTC(2026, 11, 1, 10, 0, seq)).toISOString(),
      route: 'predict',
      inputDigest: `digest-${requestId}`,
      rows: 1,
      outputs: [[value]],
      truncated: false,
      latencyMs: 1,
      shadow,
    });
    const [blue0, blue1] = api.podNames('blue') as [string, string];
    const [green0, green1] = api.podNames('green') as [string, string];
    // Requests 1-6 were answered by blue's two pods; their copies landed on either green pod.
    api.records.set(
      blue0,
      [1, 2, 3].map((n, i) => record(i + 1, `r-${n}`, n * 2, false)),
    );
    api.records.set(
      blue1,
      [4, 5, 6].map((n, i) => record(i + 1, `r-${n}`, n * 2, false)),
    );
    api.records.set(
      green0,
      [1, 3, 5].map((n, i) => record(i + 1, `r-${n}`, n * 2, true)),
    );
    api.records.set(
      green1,
      [2, 4, 6].map((n, i) => record(i + 1, `r-${n}`, n * 2 + (n === 6 ? 1 : 0), true)),
    );
    const run = await cli(['diff']);
    expect(run.code).toBe(0);
    expect(run.json.result.report).toMatchObject({
      source: 'shadow',
      pairs: 6,
      live: { color: 'blue', version: 'v1.0.0' },
      candidate: { color: 'green', version: 'v1.1.0' },
    });
    expect(run.json.result.report.withinShare).toBeCloseTo(5 / 6, 6);
    expect(
      api.requests.filter((request) => request.path.includes('/pods/') && request.path.endsWith('/proxy/admin/predictions')),
    ).toHaveLength(4);
  }, 120_000);
});
