import { checkTargets, renderMarkdown } from './report';
import type { BenchResult, CaseResult, MemorySnapshot, RouterComparison, RunMeasurement, SideSummary, SwitchUnderLoad } from './result';
import { routerTargets } from './routers';
import { summarise } from './stats';
import { DEFAULT_OPTIONS } from './options';

function side(requestsPerSecond: number, p99Ms: number): SideSummary {
  const run: RunMeasurement = {
    requests: requestsPerSecond * 5,
    durationSeconds: 5,
    requestsPerSecond,
    latency: { p50Ms: p99Ms / 3, p90Ms: p99Ms / 2, p99Ms, maxMs: p99Ms * 2, meanMs: p99Ms / 3 },
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    resets: 0,
    statuses: { '200': requestsPerSecond * 5 },
    serverCpuUsPerRequest: 100,
    proxyCpuUsPerRequest: 50,
    loadCpuUsPerRequest: 60,
  };
  return summarise([run]);
}

function predictCase(via: 'direct' | 'nginx', ratio: number, p99Ms: number): CaseResult {
  return {
    endpoint: 'predict-3',
    label: 'POST /predict, 3 rows',
    rows: 3,
    via,
    connections: 32,
    service: side(9000 * ratio, p99Ms),
    baseline: side(9000, p99Ms),
    ratio,
    cpuRatio: 0.9,
    servicePredictionsPerSecond: 27000 * ratio,
    baselinePredictionsPerSecond: 27000,
  };
}

const memory: MemorySnapshot[] = [
  {
    label: 'idle',
    processes: [
      { name: 'service blue (live)', pids: [1], rssMb: 120 },
      { name: 'service green', pids: [2], rssMb: 121 },
    ],
  },
  {
    label: 'after load',
    processes: [
      { name: 'service blue (live)', pids: [1], rssMb: 149.5 },
      { name: 'service green', pids: [2], rssMb: 151 },
    ],
  },
];

const switching: SwitchUnderLoad = {
  switches: 20,
  connections: 32,
  load: { ...side(4000, 9).runs[0] },
  failedRequests: 0,
  pollerRequests: 300,
  pollerFailures: 0,
  records: [{ index: 1, from: 'blue', to: 'green', ok: true, commandMs: 700, servedAfterMs: 480 }],
  servedAfterMs: { p50: 480, max: 480 },
  commandMs: { p50: 700, max: 700 },
};

describe('checkTargets', () => {
  it('checks each target against what the run measured', () => {
    const health: CaseResult = { ...predictCase('direct', 0.96, 4), endpoint: 'health', label: 'GET /health', rows: 0 };
    const classifier: CaseResult = { ...predictCase('direct', 0.94, 20), endpoint: 'classify-100', label: 'classifier', rows: 100 };
    const checks = checkTargets([predictCase('direct', 0.91, 6), predictCase('nginx', 0.8, 12), health, classifier], switching, memory);
    expect(checks.map((check) => [check.name.split(':')[0], check.met])).toEqual([
      ['/predict (3 rows), 32 connections, direct', true],
      ['/predict (3 rows), 32 connections, nginx', false],
      ['GET /health, 32 connections, direct', true],
      ['/predict, classifier (100 rows), 32 connections, direct', false],
      ['/predict (3 rows), 32 connections, through nginx', false],
      ['/predict (10,000 rows)', null],
      ['Switch under load', true],
      ['RSS of each color after load', false],
      ["RSS of the live color settled after the load vs the bare baseline's", null],
      ["RSS of the live color at its peak under the load vs the bare baseline's", null],
    ]);
    expect(checks[0].measured).toBe('0.91x (8,190 vs 9,000 req/s)');
    expect(checks[3].measured).toBe('0.94x (8,460 vs 9,000 req/s)');
    expect(checks[7].measured).toContain('green 151 MB');
  });

  it('holds /health to 0.95x of the baseline', () => {
    const health = (ratio: number): CaseResult => ({
      ...predictCase('direct', ratio, 4),
      endpoint: 'health',
      label: 'GET /health',
      rows: 0,
    });
    const met = (ratio: number) => checkTargets([health(ratio)], null, []).find((check) => check.name.startsWith('GET /health'))?.met;
    expect([met(0.94), met(0.95)]).toEqual([false, true]);
  });

  it("judges the live color's settled and peak RSS against the baseline's at the same moment", () => {
    const snapshot = (label: MemorySnapshot['label'], live: number, baseline: number): MemorySnapshot => ({
      label,
      processes: [
        { name: 'service blue', pids: [1], rssMb: 300 },
        { name: 'service green (live)', pids: [2], rssMb: live },
        { name: 'baseline server', pids: [3], rssMb: baseline },
      ],
    });
    const rss = (snapshots: MemorySnapshot[]) =>
      checkTargets([], null, snapshots)
        .filter((check) => check.name.startsWith('RSS of the live color'))
        .map((check) => [check.measured, check.met]);
    expect(rss([snapshot('peak under load', 260, 200), snapshot('settled', 120, 100)])).toEqual([
      ['1.20x (120 vs 100 MB)', true],
      ['1.30x (260 vs 200 MB)', true],
    ]);
    expect(rss([snapshot('peak under load', 262, 200), snapshot('settled', 121, 100)])).toEqual([
      ['1.21x (121 vs 100 MB)', false],
      ['1.31x (262 vs 200 MB)', false],
    ]);
  });

  it('judges memory on the settled reading when there is one', () => {
    const settled: MemorySnapshot = {
      label: 'settled',
      processes: [
        { name: 'service blue (live)', pids: [1], rssMb: 131 },
        { name: 'service green', pids: [2], rssMb: 128 },
      ],
    };
    const check = checkTargets([], null, [...memory, settled]).find((item) => item.name.startsWith('RSS'));
    expect(check?.met).toBe(true);
    expect(check?.measured).toContain('blue (live) 149.5 MB, green 151 MB right after the load; blue (live) 131 MB, green 128 MB settled');
  });

  it('says "not measured" rather than guessing', () => {
    expect(checkTargets([], null, []).every((check) => check.met === null && check.measured === 'not measured')).toBe(true);
  });
});

const routers: RouterComparison = {
  generator: 'autocannon',
  label: 'POST /predict, 3 rows',
  connections: 32,
  direct: side(23_000, 2.5),
  keepalive: side(21_000, 3),
  noKeepalive: side(8_000, 8),
  keepaliveVsNoKeepalive: 2.63,
  keepaliveVsDirect: 0.91,
  p99VsNoKeepalive: 0.38,
};

describe('routerTargets', () => {
  it('judges keepalive against no keepalive and against the color directly, and says when it was not measured', () => {
    expect(routerTargets([routers]).map((check) => check.met)).toEqual([true, true, true]);
    expect(
      routerTargets([routers, { ...routers, generator: 'wrk', keepaliveVsNoKeepalive: 2.4, p99VsNoKeepalive: 0.6 }]).map(
        (check) => check.met,
      ),
    ).toEqual([true, true, true, false, true, false]);
    expect(routerTargets([routers, { ...routers, generator: 'wrk' }]).map((check) => check.name.endsWith('(wrk)'))).toEqual([
      false,
      false,
      false,
      true,
      true,
      true,
    ]);
    const unmeasured = routerTargets([]);
    expect(unmeasured).toHaveLength(3);
    expect(unmeasured.every((check) => check.met === null && check.measured === 'not measured')).toBe(true);
  });
});

describe('renderMarkdown', () => {
  it('prints the cases, the switches, the memory and the targets as tables', () => {
    const cases = [predictCase('direct', 0.91, 6), predictCase('nginx', 0.9, 9)];
    const { json: _json, help: _help, out: _out, reference: _reference, ...options } = DEFAULT_OPTIONS;
    const result: BenchResult = {
      schema: 1,
      machine: {
        cpuModel: 'Test CPU',
        cores: 2,
        memoryMb: 4096,
        os: 'Linux',
        node: 'v20.0.0',
        nginx: '1.22.1',
        autocannon: '8.0.0',
        loadAverageAtStart: 0.5,
        date: '2026-11-26T00:00:00.000Z',
      },
      options,
      durationSeconds: 60,
      stack: { started: true, live: 'blue', serviceModel: 'models/v1.0.0/model.onnx', baselineModel: 'models/v1.0.0/model.onnx' },
      cases,
      switchUnderLoad: switching,
      routers: [routers],
      memory,
      targets: [...checkTargets(cases, switching, memory), ...routerTargets([routers])],
      allSucceeded: true,
      failures: [],
    };
    const text = renderMarkdown(result);
    expect(text).toContain('| POST /predict, 3 rows | 32 | direct | 8,190 | 9,000 | 0.91x |');
    expect(text).toContain('| 20,000 | 4,000 | 0 | 0 | 0 | 0 | 480.0 / 480.0 ms | 700.0 / 700.0 ms |');
    expect(text).toContain('Each switch, nginx serving the new color after (ms): 480.0.');
    expect(text).toContain('| service green | 121 | 151 |');
    expect(text).toContain('| nginx, upstream keepalive | 21,000 | 1.00 | 3.00 | 50 | 100 |');
    expect(text).toContain('keepalive / no keepalive: 2.63x req/s, 0.38x p99; keepalive / direct: 0.91x req/s (paired runs).');
    expect(text).toMatch(
      /\| \/predict \(3 rows\), 32 connections, nginx with upstream keepalive: req\/s vs the same color directly \(autocannon\) \| ≥ 0.9x \| 0.91x \| yes \|/,
    );
    expect(text).toContain('### Routers side by side, load from autocannon');
    expect(text).toContain('Every request succeeded.');
  });
});
