import type { Color } from '@mlbg/contract';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../../backends/backend';
import { stackLayout } from '../../backends/local/layout';
import { gatesNamed } from '../../gates';
import { HISTORY_SCHEMA_VERSION, type HistoryEntry, readHistory } from '../../history/history';
import { type Routes, routesWithLive } from '../../routing/routes';
import { CanarySpec } from '../../spec/canary-spec';
import { DEFAULT_PREFLIGHT_GATES } from '../../spec/deployment-spec';
import { localMeter, localServedBetween } from '../../backends/local/canary-meter';
import type { Clock } from '../../effects/deps';
import { answer, fakeBackend, fakeClock } from '../../testing/fakes';
import { analysisLines } from '../../testing/canary-output';
import { type CanaryRequest, type CanaryResult, canaryCommand, canaryFailure } from './canary';
import type { CanaryRun } from './canary-progress-file';
import { type CommandContext, stateFolderStores } from '../context';

/**
 * What a user sees of each way a canary can go, line by line: the progress lines, the progress
 * file `deploy:status` reads, the history lines, the result and its error code. The canary runs on
 * a fake deployment and a fake clock, so every line (durations and times included) is exact.
 */

const COLORS = { blue: { version: 'v1.0.0', featureCount: 1 }, green: { version: 'v1.1.0', featureCount: 1 } };

interface Script {
  /** Access-log lines "nginx" writes on each read, split by the live weights. */
  perRead?: number;
  /** What green answers (changed by `onProgress` to script an interval). */
  greenStatus?: number;
  /** Moving the live route to this green weight fails. */
  failMoveTo?: number[];
  /** nginx keeps answering as this color whatever the routes say (a promotion that nginx does not follow). */
  routerStuckOn?: Color;
  /** The routes at the start (a canary interrupted at a split). */
  routes?: Routes;
}

function scriptedBackend(script: Script): Backend & { routeLog: number[]; script: Script; clock: Clock } {
  const clock = fakeClock();
  const base = fakeBackend({ live: 'blue', colors: COLORS });
  let routes: Routes = script.routes ?? routesWithLive('blue');
  const routeLog: number[] = [];
  let log = '';
  let served = 0;
  const line = (color: Color) =>
    `${JSON.stringify({
      status: color === 'green' ? (script.greenStatus ?? 200) : 200,
      request_time: 0.002,
      upstream_addr: 'unix:/run/live-slot-00.sock',
      color,
    })}\n`;
  const readAccessLog = async (from: number | 'end') => {
    for (let index = 0; index < (script.perRead ?? 0); index += 1, served += 1)
      log += line(served % 100 < routes.live.green ? 'green' : 'blue');
    return from === 'end' ? { text: '', next: log.length } : { text: log.slice(from), next: log.length };
  };
  return {
    ...base,
    routeLog,
    script,
    readRoutes: async () => routes,
    setRoutes: async (next) => {
      if (script.failMoveTo?.includes(next.live.green)) throw new Error(`EACCES: rename live-slot-03.sock (green at ${next.live.green}%)`);
      routes = next;
      routeLog.push(next.live.green);
    },
    routerHealth: () => base.colors.health(script.routerStuckOn ?? (routes.live.green > routes.live.blue ? 'green' : 'blue')),
    clock,
    canary: {
      slots: 20,
      previewPathPrefix: '/preview/',
      meter: (colors) => localMeter({ slots: 20, clock, readAccessLog, metrics: async () => answer(503, {}) }, colors),
      servedBetween: (window, routes) => localServedBetween({ slots: 20, readAccessLog }, window, routes),
      // A probe is logged as nginx would: through the preview route it reaches the canary, through live either color.
      request: async (call) => {
        log += line(call.path.startsWith('/preview/') || served++ % 100 < routes.live.green ? 'green' : 'blue');
        return answer(200, {});
      },
    },
  };
}

describe('what a user sees of a canary (progress lines, status file, history, result)', () => {
  let dir: string;
  let layout: ReturnType<typeof stackLayout>;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlbg-canary-out-'));
    layout = stackLayout(dir, join(dir, 'state'), dir);
    mkdirSync(layout.stateDir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  interface Seen {
    result: CanaryResult;
    error: string | undefined;
    lines: string[];
    runFiles: Omit<CanaryRun, 'pid'>[];
    history: readonly HistoryEntry[];
    routeLog: number[];
  }

  /** Runs one canary command; `onProgress` may change the script or raise a signal as lines appear. */
  async function canary(
    backend: ReturnType<typeof scriptedBackend>,
    request: CanaryRequest,
    spec: Record<string, unknown>,
    options: { probes?: string[]; onProgress?: (line: string, signals: { stop: boolean; promote: boolean }) => void } = {},
  ): Promise<Seen> {
    const lines: string[] = [];
    const runFiles: Omit<CanaryRun, 'pid'>[] = [];
    const signals = { stop: false, promote: false };
    const stores = stateFolderStores(layout);
    const context: CommandContext = {
      backend,
      ...stores,
      canaryRun: {
        ...stores.canaryRun,
        write: ({ pid, ...rest }) => {
          expect(pid).toBe(process.pid);
          runFiles.push(rest);
          stores.canaryRun.write({ pid, ...rest });
        },
      },
      clock: backend.clock,
      userName: 'tester',
      progress: (line) => {
        lines.push(line);
        options.onProgress?.(line, signals);
      },
      preflight: gatesNamed(DEFAULT_PREFLIGHT_GATES),
    };
    const settings = {
      spec: CanarySpec.parse({
        steps: [25, 50, 100],
        intervalSeconds: 2,
        ...spec,
        analysis: { outputs: { enabled: false }, ...(spec['analysis'] as object) },
      }),
      ...(options.probes ? { probes: options.probes } : {}),
    };
    const result = await canaryCommand(context, request, settings, {
      stopRequested: () => signals.stop,
      promoteRequested: () => signals.promote,
    });
    expect(stores.canaryRun.read()).toBeUndefined();
    return {
      result,
      error: canaryFailure(result)?.code,
      lines,
      runFiles,
      history: readHistory(layout.historyFile).entries,
      routeLog: backend.routeLog,
    };
  }
  const start: CanaryRequest = { kind: 'start', color: 'green', keep: false };
  const live = (routes: Routes) =>
    `live blue ${routes.live.blue} / green ${routes.live.green}, preview ${routes.preview.green === 100 ? 'green' : routes.preview.blue === 100 ? 'blue' : 'split'}`;
  const gates = (list: readonly { name: string; ok: boolean }[]) =>
    list.map((gate) => `${gate.name}${gate.ok ? '' : ' FAILED'}`).join(', ');
  /** Everything a user can see, one line per thing. */
  const view = (seen: Seen) => ({
    result:
      seen.result.kind === 'noop'
        ? `noop: ${seen.result.note}`
        : `${seen.result.kind} (${seen.error ?? 'ok'}) at ${seen.result.weight}%, ${live(seen.result.routes)}, ${seen.result.stableVersion} -> ${seen.result.canaryVersion}, ${seen.result.intervals.length} interval(s), gates ${gates(seen.result.gates)}${seen.result.reason ? `; reason: ${seen.result.reason}` : ''}${seen.result.note ? `; note: ${seen.result.note}` : ''}`,
    routeMoves: seen.routeLog,
    lines: seen.lines,
    statusFile: seen.runFiles.map(
      (file) =>
        `${file.weight}% step ${file.step} of ${file.steps.join(',')} every ${file.intervalMs} ms, analysis at ${file.analysisAt}, last ${file.lastAnalysis ? `${file.lastAnalysis.weight}% ${file.lastAnalysis.verdict}` : 'none'}`,
    ),
    history: seen.history.map((entry) =>
      entry.command === 'canary'
        ? `${entry.outcome} at ${entry.weight}%${entry.resumed ? ' (resumed)' : ''}, ${live(entry.routes)}, steps ${entry.steps.join(',')} every ${entry.intervalMs} ms, intervals [${entry.intervals.map((interval) => `${interval.weight}% ${interval.verdict}`).join(', ')}], gates ${gates(entry.gates)}${entry.reason ? `; reason: ${entry.reason}` : ''}`
        : entry.command,
    ),
  });

  it('given healthy traffic, when a canary runs, then it advances step by step and is promoted, verified through nginx', async () => {
    const seen = await canary(scriptedBackend({ perRead: 1_000 }), start, {});
    // The suites' filter of a canary's stderr keeps the analyses whole (their check lines too) and nothing else.
    const analyses = seen.lines.filter((line) => line.startsWith('analysis at '));
    expect(analyses).toHaveLength(2);
    expect(analysisLines(`${seen.lines.join('\n')}\n`)).toEqual(analyses.join('\n').split('\n'));
    expect(view(seen)).toEqual({
      result:
        'promoted (ok) at 100%, live blue 0 / green 100, preview blue, v1.0.0 -> v1.1.0, 2 interval(s), gates health-streak, predict, signature, router-serves-target',
      routeMoves: [25, 50, 100],
      lines: [
        "preflight: checking green before it takes a share of blue's traffic",
        'step 1 of 3: green at 25% (live blue 75% / green 25%), moved in 0 ms',
        'analysing green at 25% for 2 s...',
        `analysis at 25%: PASS (canary green 2250 req, 0.00% 5xx, p99 2 ms; stable blue 6750 req, 0.00% 5xx, p99 2 ms)
  error-share PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share minus the stable's 0 (limit 0.005); n 2250/6750 (min 100)
  error-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share 0 (limit 0.01); n 2250 (min 100)
  latency PASS; statistic 7594000; p 1.000 (Holm 1.000) vs alpha 0.01; canary's median over the stable's 1 (limit 1.5); n 2250/6750 (min 100)
  p99-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) 2 (limit 500); n 2250 (min 100)`,
        'step 2 of 3: green at 50% (live blue 50% / green 50%), moved in 0 ms',
        'analysing green at 50% for 2 s...',
        `analysis at 50%: PASS (canary green 4500 req, 0.00% 5xx, p99 2 ms; stable blue 4500 req, 0.00% 5xx, p99 2 ms)
  error-share PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share minus the stable's 0 (limit 0.005); n 4500/4500 (min 100)
  error-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share 0 (limit 0.01); n 4500 (min 100)
  latency PASS; statistic 10130000; p 1.000 (Holm 1.000) vs alpha 0.01; canary's median over the stable's 1 (limit 1.5); n 4500/4500 (min 100)
  p99-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) 2 (limit 500); n 4500 (min 100)`,
        'promoting green (every step passed its analysis): all live traffic to green',
        'waiting 900 ms for the connections nginx kept to the previous color to retire',
      ],
      statusFile: [
        '25% step 1 of 25,50,100 every 2000 ms, analysis at 1970-01-01T00:16:42.400Z, last none',
        '50% step 2 of 25,50,100 every 2000 ms, analysis at 1970-01-01T00:16:46.800Z, last 25% pass',
      ],
      history: [
        'started at 0%, live blue 100 / green 0, preview green, steps 25,50,100 every 2000 ms, intervals [], gates health-streak, predict, signature',
        'promoted at 100%, live blue 0 / green 100, preview blue, steps 25,50,100 every 2000 ms, intervals [25% pass, 50% pass], gates health-streak, predict, signature, router-serves-target',
      ],
    });
  });

  it('given a failing interval under the failure limit, then the step holds, and the next passing interval advances it', async () => {
    const backend = scriptedBackend({ perRead: 1_000 });
    const seen = await canary(
      backend,
      start,
      {},
      {
        onProgress: (line) => {
          if (line === 'analysing green at 25% for 2 s...')
            backend.script.greenStatus = backend.script.greenStatus === undefined ? 500 : 200;
        },
      },
    );
    expect(view(seen)).toEqual({
      result:
        'promoted (ok) at 100%, live blue 0 / green 100, preview blue, v1.0.0 -> v1.1.0, 3 interval(s), gates health-streak, predict, signature, router-serves-target',
      routeMoves: [25, 50, 100],
      lines: [
        "preflight: checking green before it takes a share of blue's traffic",
        'step 1 of 3: green at 25% (live blue 75% / green 25%), moved in 0 ms',
        'analysing green at 25% for 2 s...',
        `analysis at 25%: FAIL (canary green 2250 req, 100.00% 5xx, p99 2 ms; stable blue 6750 req, 0.00% 5xx, p99 2 ms)
  error-share FAIL; statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share minus the stable's 1 (limit 0.005); n 2250/6750 (min 100)
  error-ceiling FAIL; statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share 1 (limit 0.01); n 2250 (min 100)
  latency INCONCLUSIVE; no test (too few samples); canary's median over the stable's n/a (limit 1.5); n 0/6750 (min 100)
  p99-ceiling INCONCLUSIVE; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) n/a (limit 500); n 0 (min 100)`,
        'holding green at 25%: failed interval 1 of 2 allowed in a row',
        'analysing green at 25% for 2 s...',
        `analysis at 25%: PASS (canary green 2250 req, 0.00% 5xx, p99 2 ms; stable blue 6750 req, 0.00% 5xx, p99 2 ms)
  error-share PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share minus the stable's 0 (limit 0.005); n 2250/6750 (min 100)
  error-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share 0 (limit 0.01); n 2250 (min 100)
  latency PASS; statistic 7594000; p 1.000 (Holm 1.000) vs alpha 0.01; canary's median over the stable's 1 (limit 1.5); n 2250/6750 (min 100)
  p99-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) 2 (limit 500); n 2250 (min 100)`,
        'step 2 of 3: green at 50% (live blue 50% / green 50%), moved in 0 ms',
        'analysing green at 50% for 2 s...',
        `analysis at 50%: PASS (canary green 4500 req, 0.00% 5xx, p99 2 ms; stable blue 4500 req, 0.00% 5xx, p99 2 ms)
  error-share PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share minus the stable's 0 (limit 0.005); n 4500/4500 (min 100)
  error-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share 0 (limit 0.01); n 4500 (min 100)
  latency PASS; statistic 10130000; p 1.000 (Holm 1.000) vs alpha 0.01; canary's median over the stable's 1 (limit 1.5); n 4500/4500 (min 100)
  p99-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) 2 (limit 500); n 4500 (min 100)`,
        'promoting green (every step passed its analysis): all live traffic to green',
        'waiting 900 ms for the connections nginx kept to the previous color to retire',
      ],
      statusFile: [
        '25% step 1 of 25,50,100 every 2000 ms, analysis at 1970-01-01T00:16:42.400Z, last none',
        '25% step 1 of 25,50,100 every 2000 ms, analysis at 1970-01-01T00:16:46.800Z, last 25% fail',
        // 1.2 s later than it was: every window, not only the first, now waits for nginx's log flush after its move.
        '50% step 2 of 25,50,100 every 2000 ms, analysis at 1970-01-01T00:16:51.200Z, last 25% pass',
      ],
      history: [
        'started at 0%, live blue 100 / green 0, preview green, steps 25,50,100 every 2000 ms, intervals [], gates health-streak, predict, signature',
        'promoted at 100%, live blue 0 / green 100, preview blue, steps 25,50,100 every 2000 ms, intervals [25% fail, 25% pass, 50% pass], gates health-streak, predict, signature, router-serves-target',
      ],
    });
  });

  it('given a canary answering 5xx, then failureLimit failed intervals in a row roll it back', async () => {
    expect(view(await canary(scriptedBackend({ perRead: 1_000, greenStatus: 500 }), start, {}))).toEqual({
      result:
        "rolled-back (CANARY_FAILED) at 0%, live blue 100 / green 0, preview green, v1.0.0 -> v1.1.0, 2 interval(s), gates health-streak, predict, signature; reason: the analysis failed 2 interval(s) in a row (the failure limit is 2): error-share FAIL: green 2250 of 2250 5xx (100.00%), blue 0 of 6750 (0.00%); statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share minus the stable's 1 (limit 0.005); n 2250/6750 (min 100); error-ceiling FAIL: green 2250 of 2250 5xx (100.00%); statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share 1 (limit 0.01); n 2250 (min 100)",
      routeMoves: [25, 0],
      lines: [
        "preflight: checking green before it takes a share of blue's traffic",
        'step 1 of 3: green at 25% (live blue 75% / green 25%), moved in 0 ms',
        'analysing green at 25% for 2 s...',
        `analysis at 25%: FAIL (canary green 2250 req, 100.00% 5xx, p99 2 ms; stable blue 6750 req, 0.00% 5xx, p99 2 ms)
  error-share FAIL; statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share minus the stable's 1 (limit 0.005); n 2250/6750 (min 100)
  error-ceiling FAIL; statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share 1 (limit 0.01); n 2250 (min 100)
  latency INCONCLUSIVE; no test (too few samples); canary's median over the stable's n/a (limit 1.5); n 0/6750 (min 100)
  p99-ceiling INCONCLUSIVE; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) n/a (limit 500); n 0 (min 100)`,
        'holding green at 25%: failed interval 1 of 2 allowed in a row',
        'analysing green at 25% for 2 s...',
        `analysis at 25%: FAIL (canary green 2250 req, 100.00% 5xx, p99 2 ms; stable blue 6750 req, 0.00% 5xx, p99 2 ms)
  error-share FAIL; statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share minus the stable's 1 (limit 0.005); n 2250/6750 (min 100)
  error-ceiling FAIL; statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share 1 (limit 0.01); n 2250 (min 100)
  latency INCONCLUSIVE; no test (too few samples); canary's median over the stable's n/a (limit 1.5); n 0/6750 (min 100)
  p99-ceiling INCONCLUSIVE; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) n/a (limit 500); n 0 (min 100)`,
        "moving all live traffic back to blue (the analysis failed 2 interval(s) in a row (the failure limit is 2): error-share FAIL: green 2250 of 2250 5xx (100.00%), blue 0 of 6750 (0.00%); statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share minus the stable's 1 (limit 0.005); n 2250/6750 (min 100); error-ceiling FAIL: green 2250 of 2250 5xx (100.00%); statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share 1 (limit 0.01); n 2250 (min 100))",
        'waiting 1100 ms for the connections nginx kept to the previous color to retire',
      ],
      statusFile: [
        '25% step 1 of 25,50,100 every 2000 ms, analysis at 1970-01-01T00:16:42.400Z, last none',
        '25% step 1 of 25,50,100 every 2000 ms, analysis at 1970-01-01T00:16:46.800Z, last 25% fail',
      ],
      history: [
        'started at 0%, live blue 100 / green 0, preview green, steps 25,50,100 every 2000 ms, intervals [], gates health-streak, predict, signature',
        "rolled-back at 0%, live blue 100 / green 0, preview green, steps 25,50,100 every 2000 ms, intervals [25% fail, 25% fail], gates health-streak, predict, signature; reason: the analysis failed 2 interval(s) in a row (the failure limit is 2): error-share FAIL: green 2250 of 2250 5xx (100.00%), blue 0 of 6750 (0.00%); statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share minus the stable's 1 (limit 0.005); n 2250/6750 (min 100); error-ceiling FAIL: green 2250 of 2250 5xx (100.00%); statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share 1 (limit 0.01); n 2250 (min 100)",
      ],
    });
  });

  it('given no traffic and lowTraffic "wait", then it holds and rolls back as unjudgeable after maxInconclusive intervals', async () => {
    expect(view(await canary(scriptedBackend({}), start, { analysis: { maxInconclusive: 2 } }))).toEqual({
      result:
        'rolled-back (CANARY_FAILED) at 0%, live blue 100 / green 0, preview green, v1.0.0 -> v1.1.0, 2 interval(s), gates health-streak, predict, signature; reason: 2 interval(s) in a row had too little traffic to judge the canary (the limit is 2); too little traffic is never a pass: error-share INCONCLUSIVE: green 0 of 0 5xx (n/a), blue 0 of 0 (n/a): too little data (at least 100 needed); error-ceiling INCONCLUSIVE: green 0 of 0 5xx (n/a): too little data (at least 100 needed); latency INCONCLUSIVE: median green n/a ms, blue n/a ms: too little data (at least 100 needed); p99-ceiling INCONCLUSIVE: green p99 n/a ms; 0 of 0 answers over 500 ms: too little data (at least 100 needed)',
      routeMoves: [25, 0],
      lines: [
        "preflight: checking green before it takes a share of blue's traffic",
        'step 1 of 3: green at 25% (live blue 75% / green 25%), moved in 0 ms',
        'analysing green at 25% for 2 s...',
        `analysis at 25%: INCONCLUSIVE (canary green 0 req, n/a 5xx, p99 n/a ms; stable blue 0 req, n/a 5xx, p99 n/a ms)
  error-share INCONCLUSIVE; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share minus the stable's n/a (limit 0.005); n 0/0 (min 100)
  error-ceiling INCONCLUSIVE; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share n/a (limit 0.01); n 0 (min 100)
  latency INCONCLUSIVE; no test (too few samples); canary's median over the stable's n/a (limit 1.5); n 0/0 (min 100)
  p99-ceiling INCONCLUSIVE; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) n/a (limit 500); n 0 (min 100)
  errors: too little data for error-share, error-ceiling
  latency: too little data for latency, p99-ceiling`,
        'holding green at 25%: too little traffic to judge (interval 1 of 2 allowed in a row); holding the weight',
        'analysing green at 25% for 2 s...',
        `analysis at 25%: INCONCLUSIVE (canary green 0 req, n/a 5xx, p99 n/a ms; stable blue 0 req, n/a 5xx, p99 n/a ms)
  error-share INCONCLUSIVE; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share minus the stable's n/a (limit 0.005); n 0/0 (min 100)
  error-ceiling INCONCLUSIVE; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share n/a (limit 0.01); n 0 (min 100)
  latency INCONCLUSIVE; no test (too few samples); canary's median over the stable's n/a (limit 1.5); n 0/0 (min 100)
  p99-ceiling INCONCLUSIVE; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) n/a (limit 500); n 0 (min 100)
  errors: too little data for error-share, error-ceiling
  latency: too little data for latency, p99-ceiling`,
        'moving all live traffic back to blue (2 interval(s) in a row had too little traffic to judge the canary (the limit is 2); too little traffic is never a pass: error-share INCONCLUSIVE: green 0 of 0 5xx (n/a), blue 0 of 0 (n/a): too little data (at least 100 needed); error-ceiling INCONCLUSIVE: green 0 of 0 5xx (n/a): too little data (at least 100 needed); latency INCONCLUSIVE: median green n/a ms, blue n/a ms: too little data (at least 100 needed); p99-ceiling INCONCLUSIVE: green p99 n/a ms; 0 of 0 answers over 500 ms: too little data (at least 100 needed))',
        'waiting 1100 ms for the connections nginx kept to the previous color to retire',
      ],
      statusFile: [
        '25% step 1 of 25,50,100 every 2000 ms, analysis at 1970-01-01T00:16:42.400Z, last none',
        '25% step 1 of 25,50,100 every 2000 ms, analysis at 1970-01-01T00:16:46.800Z, last 25% inconclusive',
      ],
      history: [
        'started at 0%, live blue 100 / green 0, preview green, steps 25,50,100 every 2000 ms, intervals [], gates health-streak, predict, signature',
        'rolled-back at 0%, live blue 100 / green 0, preview green, steps 25,50,100 every 2000 ms, intervals [25% inconclusive, 25% inconclusive], gates health-streak, predict, signature; reason: 2 interval(s) in a row had too little traffic to judge the canary (the limit is 2); too little traffic is never a pass: error-share INCONCLUSIVE: green 0 of 0 5xx (n/a), blue 0 of 0 (n/a): too little data (at least 100 needed); error-ceiling INCONCLUSIVE: green 0 of 0 5xx (n/a): too little data (at least 100 needed); latency INCONCLUSIVE: median green n/a ms, blue n/a ms: too little data (at least 100 needed); p99-ceiling INCONCLUSIVE: green p99 n/a ms; 0 of 0 answers over 500 ms: too little data (at least 100 needed)',
      ],
    });
  });

  it('given no traffic and probes, then it warms the canary up and probes every interval to the minimum', async () => {
    const seen = await canary(
      scriptedBackend({}),
      start,
      { lowTraffic: 'probe', probes: { samples: 'deploy/canary-samples.json' } },
      { probes: ['{"features":[[1]]}'] },
    );
    expect(view(seen)).toEqual({
      result:
        'promoted (ok) at 100%, live blue 0 / green 100, preview blue, v1.0.0 -> v1.1.0, 2 interval(s), gates health-streak, predict, signature, router-serves-target',
      routeMoves: [25, 50, 100],
      lines: [
        "preflight: checking green before it takes a share of blue's traffic",
        'warming green up with 200 requests through the preview route (/preview/predict; before the first window, not counted)',
        'step 1 of 3: green at 25% (live blue 75% / green 25%), moved in 0 ms',
        'analysing green at 25% for 2 s...',
        `analysis at 25%: PASS (canary green 125 req, 0.00% 5xx, p99 2 ms; stable blue 106 req, 0.00% 5xx, p99 2 ms; 231 probes sent)
  error-share PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share minus the stable's 0 (limit 0.005); n 125/106 (min 100)
  error-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share 0 (limit 0.01); n 125 (min 100)
  latency PASS; statistic 6625; p 1.000 (Holm 1.000) vs alpha 0.01; canary's median over the stable's 1 (limit 1.5); n 125/106 (min 100)
  p99-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) 2 (limit 500); n 125 (min 100)`,
        'step 2 of 3: green at 50% (live blue 50% / green 50%), moved in 0 ms',
        'analysing green at 50% for 2 s...',
        `analysis at 50%: PASS (canary green 156 req, 0.00% 5xx, p99 2 ms; stable blue 101 req, 0.00% 5xx, p99 2 ms; 257 probes sent)
  error-share PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share minus the stable's 0 (limit 0.005); n 156/101 (min 100)
  error-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share 0 (limit 0.01); n 156 (min 100)
  latency PASS; statistic 7878; p 1.000 (Holm 1.000) vs alpha 0.01; canary's median over the stable's 1 (limit 1.5); n 156/101 (min 100)
  p99-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) 2 (limit 500); n 156 (min 100)`,
        'promoting green (every step passed its analysis): all live traffic to green',
        'waiting 900 ms for the connections nginx kept to the previous color to retire',
      ],
      statusFile: [
        '25% step 1 of 25,50,100 every 2000 ms, analysis at 1970-01-01T00:16:42.400Z, last none',
        '50% step 2 of 25,50,100 every 2000 ms, analysis at 1970-01-01T00:16:47.300Z, last 25% pass',
      ],
      history: [
        'started at 0%, live blue 100 / green 0, preview green, steps 25,50,100 every 2000 ms, intervals [], gates health-streak, predict, signature',
        'promoted at 100%, live blue 0 / green 100, preview blue, steps 25,50,100 every 2000 ms, intervals [25% pass, 50% pass], gates health-streak, predict, signature, router-serves-target',
      ],
    });
  });

  it('given a stop signal mid-interval, then all traffic goes back to the stable color', async () => {
    const seen = await canary(
      scriptedBackend({ perRead: 1_000 }),
      start,
      {},
      {
        onProgress: (line, signals) => {
          if (line.startsWith('analysing green at 50%')) signals.stop = true;
        },
      },
    );
    expect(view(seen)).toEqual({
      result:
        'stopped (CANARY_STOPPED) at 0%, live blue 100 / green 0, preview green, v1.0.0 -> v1.1.0, 1 interval(s), gates health-streak, predict, signature; reason: stopped by a signal at 50%',
      routeMoves: [25, 50, 0],
      lines: [
        "preflight: checking green before it takes a share of blue's traffic",
        'step 1 of 3: green at 25% (live blue 75% / green 25%), moved in 0 ms',
        'analysing green at 25% for 2 s...',
        `analysis at 25%: PASS (canary green 2250 req, 0.00% 5xx, p99 2 ms; stable blue 6750 req, 0.00% 5xx, p99 2 ms)
  error-share PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share minus the stable's 0 (limit 0.005); n 2250/6750 (min 100)
  error-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share 0 (limit 0.01); n 2250 (min 100)
  latency PASS; statistic 7594000; p 1.000 (Holm 1.000) vs alpha 0.01; canary's median over the stable's 1 (limit 1.5); n 2250/6750 (min 100)
  p99-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) 2 (limit 500); n 2250 (min 100)`,
        'step 2 of 3: green at 50% (live blue 50% / green 50%), moved in 0 ms',
        'analysing green at 50% for 2 s...',
        'moving all live traffic back to blue (stopped by a signal at 50%)',
        'waiting 1100 ms for the connections nginx kept to the previous color to retire',
      ],
      statusFile: [
        '25% step 1 of 25,50,100 every 2000 ms, analysis at 1970-01-01T00:16:42.400Z, last none',
        '50% step 2 of 25,50,100 every 2000 ms, analysis at 1970-01-01T00:16:46.800Z, last 25% pass',
      ],
      history: [
        'started at 0%, live blue 100 / green 0, preview green, steps 25,50,100 every 2000 ms, intervals [], gates health-streak, predict, signature',
        'stopped at 0%, live blue 100 / green 0, preview green, steps 25,50,100 every 2000 ms, intervals [25% pass], gates health-streak, predict, signature; reason: stopped by a signal at 50%',
      ],
    });
  });

  it('given a stop signal mid-interval with --keep, then the weight stays where it is', async () => {
    const seen = await canary(
      scriptedBackend({ perRead: 1_000 }),
      { ...start, keep: true },
      {},
      {
        onProgress: (line, signals) => {
          if (line.startsWith('analysing green at 50%')) signals.stop = true;
        },
      },
    );
    expect(view(seen)).toEqual({
      result:
        'kept (CANARY_STOPPED) at 50%, live blue 50 / green 50, preview green, v1.0.0 -> v1.1.0, 1 interval(s), gates health-streak, predict, signature; reason: stopped by a signal (--keep)',
      routeMoves: [25, 50],
      lines: [
        "preflight: checking green before it takes a share of blue's traffic",
        'step 1 of 3: green at 25% (live blue 75% / green 25%), moved in 0 ms',
        'analysing green at 25% for 2 s...',
        `analysis at 25%: PASS (canary green 2250 req, 0.00% 5xx, p99 2 ms; stable blue 6750 req, 0.00% 5xx, p99 2 ms)
  error-share PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share minus the stable's 0 (limit 0.005); n 2250/6750 (min 100)
  error-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share 0 (limit 0.01); n 2250 (min 100)
  latency PASS; statistic 7594000; p 1.000 (Holm 1.000) vs alpha 0.01; canary's median over the stable's 1 (limit 1.5); n 2250/6750 (min 100)
  p99-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) 2 (limit 500); n 2250 (min 100)`,
        'step 2 of 3: green at 50% (live blue 50% / green 50%), moved in 0 ms',
        'analysing green at 50% for 2 s...',
        'stopped with --keep: green keeps 50%; continue with `npx nx run deploy:canary --resume` or `--abort`',
      ],
      statusFile: [
        '25% step 1 of 25,50,100 every 2000 ms, analysis at 1970-01-01T00:16:42.400Z, last none',
        '50% step 2 of 25,50,100 every 2000 ms, analysis at 1970-01-01T00:16:46.800Z, last 25% pass',
      ],
      history: [
        'started at 0%, live blue 100 / green 0, preview green, steps 25,50,100 every 2000 ms, intervals [], gates health-streak, predict, signature',
        'kept at 50%, live blue 50 / green 50, preview green, steps 25,50,100 every 2000 ms, intervals [25% pass], gates health-streak, predict, signature; reason: stopped by a signal; --keep left the weight as it was',
      ],
    });
  });

  it('given a stop signal during the preflight, then it stops before the first step and moves nothing', async () => {
    const seen = await canary(
      scriptedBackend({ perRead: 1_000 }),
      start,
      {},
      {
        onProgress: (line, signals) => {
          if (line.startsWith('preflight')) signals.stop = true;
        },
      },
    );
    expect(view(seen)).toEqual({
      result:
        'stopped (CANARY_STOPPED) at 0%, live blue 100 / green 0, preview green, v1.0.0 -> v1.1.0, 0 interval(s), gates health-streak, predict, signature; reason: stopped by a signal before the first step',
      routeMoves: [],
      lines: ["preflight: checking green before it takes a share of blue's traffic"],
      statusFile: [],
      history: [
        'started at 0%, live blue 100 / green 0, preview green, steps 25,50,100 every 2000 ms, intervals [], gates health-streak, predict, signature',
        'stopped at 0%, live blue 100 / green 0, preview green, steps 25,50,100 every 2000 ms, intervals [], gates health-streak, predict, signature; reason: stopped by a signal before the first step',
      ],
    });
  });

  it('given a promote signal mid-interval, then it promotes at once', async () => {
    const seen = await canary(
      scriptedBackend({ perRead: 1_000 }),
      start,
      {},
      {
        onProgress: (line, signals) => {
          if (line.startsWith('analysing green at 25%')) signals.promote = true;
        },
      },
    );
    expect(view(seen)).toEqual({
      result:
        'promoted (ok) at 100%, live blue 0 / green 100, preview blue, v1.0.0 -> v1.1.0, 0 interval(s), gates health-streak, predict, signature, router-serves-target',
      routeMoves: [25, 100],
      lines: [
        "preflight: checking green before it takes a share of blue's traffic",
        'step 1 of 3: green at 25% (live blue 75% / green 25%), moved in 0 ms',
        'analysing green at 25% for 2 s...',
        'promoting green (asked by deploy:promote): all live traffic to green',
        'waiting 900 ms for the connections nginx kept to the previous color to retire',
      ],
      statusFile: ['25% step 1 of 25,50,100 every 2000 ms, analysis at 1970-01-01T00:16:42.400Z, last none'],
      history: [
        'started at 0%, live blue 100 / green 0, preview green, steps 25,50,100 every 2000 ms, intervals [], gates health-streak, predict, signature',
        'promoted at 100%, live blue 0 / green 100, preview blue, steps 25,50,100 every 2000 ms, intervals [], gates health-streak, predict, signature, router-serves-target',
      ],
    });
  });

  it('given a move to the next step that fails, then it rolls back', async () => {
    expect(view(await canary(scriptedBackend({ perRead: 1_000, failMoveTo: [50] }), start, {}))).toEqual({
      result:
        'rolled-back (CANARY_FAILED) at 0%, live blue 100 / green 0, preview green, v1.0.0 -> v1.1.0, 1 interval(s), gates health-streak, predict, signature; reason: moving green to 50% failed: EACCES: rename live-slot-03.sock (green at 50%)',
      routeMoves: [25, 0],
      lines: [
        "preflight: checking green before it takes a share of blue's traffic",
        'step 1 of 3: green at 25% (live blue 75% / green 25%), moved in 0 ms',
        'analysing green at 25% for 2 s...',
        `analysis at 25%: PASS (canary green 2250 req, 0.00% 5xx, p99 2 ms; stable blue 6750 req, 0.00% 5xx, p99 2 ms)
  error-share PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share minus the stable's 0 (limit 0.005); n 2250/6750 (min 100)
  error-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share 0 (limit 0.01); n 2250 (min 100)
  latency PASS; statistic 7594000; p 1.000 (Holm 1.000) vs alpha 0.01; canary's median over the stable's 1 (limit 1.5); n 2250/6750 (min 100)
  p99-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) 2 (limit 500); n 2250 (min 100)`,
        'moving all live traffic back to blue (moving green to 50% failed: EACCES: rename live-slot-03.sock (green at 50%))',
        'waiting 1100 ms for the connections nginx kept to the previous color to retire',
      ],
      statusFile: ['25% step 1 of 25,50,100 every 2000 ms, analysis at 1970-01-01T00:16:42.400Z, last none'],
      history: [
        'started at 0%, live blue 100 / green 0, preview green, steps 25,50,100 every 2000 ms, intervals [], gates health-streak, predict, signature',
        'rolled-back at 0%, live blue 100 / green 0, preview green, steps 25,50,100 every 2000 ms, intervals [25% pass], gates health-streak, predict, signature; reason: moving green to 50% failed: EACCES: rename live-slot-03.sock (green at 50%)',
      ],
    });
  });

  it('given a promotion nginx does not follow, then the verification fails and it rolls back', async () => {
    expect(view(await canary(scriptedBackend({ perRead: 1_000, routerStuckOn: 'blue' }), start, { steps: [25, 100] }))).toEqual({
      result:
        'rolled-back (CANARY_FAILED) at 0%, live blue 100 / green 0, preview green, v1.0.0 -> v1.1.0, 1 interval(s), gates health-streak, predict, signature, router-serves-target FAILED; reason: after the promotion through nginx, http://127.0.0.1:8080/health (check 22) answered blue v1.0.0, expected green v1.1.0',
      routeMoves: [25, 100, 0],
      lines: [
        "preflight: checking green before it takes a share of blue's traffic",
        'step 1 of 2: green at 25% (live blue 75% / green 25%), moved in 0 ms',
        'analysing green at 25% for 2 s...',
        `analysis at 25%: PASS (canary green 2250 req, 0.00% 5xx, p99 2 ms; stable blue 6750 req, 0.00% 5xx, p99 2 ms)
  error-share PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share minus the stable's 0 (limit 0.005); n 2250/6750 (min 100)
  error-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share 0 (limit 0.01); n 2250 (min 100)
  latency PASS; statistic 7594000; p 1.000 (Holm 1.000) vs alpha 0.01; canary's median over the stable's 1 (limit 1.5); n 2250/6750 (min 100)
  p99-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) 2 (limit 500); n 2250 (min 100)`,
        'promoting green (every step passed its analysis): all live traffic to green',
        'moving all live traffic back to blue (after the promotion through nginx, http://127.0.0.1:8080/health (check 22) answered blue v1.0.0, expected green v1.1.0)',
        'waiting 1100 ms for the connections nginx kept to the previous color to retire',
      ],
      statusFile: ['25% step 1 of 25,100 every 2000 ms, analysis at 1970-01-01T00:16:42.400Z, last none'],
      history: [
        'started at 0%, live blue 100 / green 0, preview green, steps 25,100 every 2000 ms, intervals [], gates health-streak, predict, signature',
        'rolled-back at 0%, live blue 100 / green 0, preview green, steps 25,100 every 2000 ms, intervals [25% pass], gates health-streak, predict, signature, router-serves-target FAILED; reason: after the promotion through nginx, http://127.0.0.1:8080/health (check 22) answered blue v1.0.0, expected green v1.1.0',
      ],
    });
  });

  it('given a promotion whose move fails, then it rolls back', async () => {
    expect(view(await canary(scriptedBackend({ perRead: 1_000, failMoveTo: [100] }), start, { steps: [25, 100] }))).toEqual({
      result:
        'rolled-back (CANARY_FAILED) at 0%, live blue 100 / green 0, preview green, v1.0.0 -> v1.1.0, 1 interval(s), gates health-streak, predict, signature; reason: the promotion failed: EACCES: rename live-slot-03.sock (green at 100%)',
      routeMoves: [25, 0],
      lines: [
        "preflight: checking green before it takes a share of blue's traffic",
        'step 1 of 2: green at 25% (live blue 75% / green 25%), moved in 0 ms',
        'analysing green at 25% for 2 s...',
        `analysis at 25%: PASS (canary green 2250 req, 0.00% 5xx, p99 2 ms; stable blue 6750 req, 0.00% 5xx, p99 2 ms)
  error-share PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share minus the stable's 0 (limit 0.005); n 2250/6750 (min 100)
  error-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share 0 (limit 0.01); n 2250 (min 100)
  latency PASS; statistic 7594000; p 1.000 (Holm 1.000) vs alpha 0.01; canary's median over the stable's 1 (limit 1.5); n 2250/6750 (min 100)
  p99-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) 2 (limit 500); n 2250 (min 100)`,
        'promoting green (every step passed its analysis): all live traffic to green',
        'moving all live traffic back to blue (the promotion failed: EACCES: rename live-slot-03.sock (green at 100%))',
        'waiting 1100 ms for the connections nginx kept to the previous color to retire',
      ],
      statusFile: ['25% step 1 of 25,100 every 2000 ms, analysis at 1970-01-01T00:16:42.400Z, last none'],
      history: [
        'started at 0%, live blue 100 / green 0, preview green, steps 25,100 every 2000 ms, intervals [], gates health-streak, predict, signature',
        'rolled-back at 0%, live blue 100 / green 0, preview green, steps 25,100 every 2000 ms, intervals [25% pass], gates health-streak, predict, signature; reason: the promotion failed: EACCES: rename live-slot-03.sock (green at 100%)',
      ],
    });
  });

  it('given a rollback whose move back fails, then it ends broken at the weight it had', async () => {
    expect(view(await canary(scriptedBackend({ perRead: 1_000, greenStatus: 500, failMoveTo: [0] }), start, {}))).toEqual({
      result:
        "broken (REVERT_FAILED) at 25%, live blue 75 / green 25, preview green, v1.0.0 -> v1.1.0, 2 interval(s), gates health-streak, predict, signature; reason: the analysis failed 2 interval(s) in a row (the failure limit is 2): error-share FAIL: green 2250 of 2250 5xx (100.00%), blue 0 of 6750 (0.00%); statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share minus the stable's 1 (limit 0.005); n 2250/6750 (min 100); error-ceiling FAIL: green 2250 of 2250 5xx (100.00%); statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share 1 (limit 0.01); n 2250 (min 100); moving the traffic back to blue failed: EACCES: rename live-slot-03.sock (green at 0%)",
      routeMoves: [25],
      lines: [
        "preflight: checking green before it takes a share of blue's traffic",
        'step 1 of 3: green at 25% (live blue 75% / green 25%), moved in 0 ms',
        'analysing green at 25% for 2 s...',
        `analysis at 25%: FAIL (canary green 2250 req, 100.00% 5xx, p99 2 ms; stable blue 6750 req, 0.00% 5xx, p99 2 ms)
  error-share FAIL; statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share minus the stable's 1 (limit 0.005); n 2250/6750 (min 100)
  error-ceiling FAIL; statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share 1 (limit 0.01); n 2250 (min 100)
  latency INCONCLUSIVE; no test (too few samples); canary's median over the stable's n/a (limit 1.5); n 0/6750 (min 100)
  p99-ceiling INCONCLUSIVE; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) n/a (limit 500); n 0 (min 100)`,
        'holding green at 25%: failed interval 1 of 2 allowed in a row',
        'analysing green at 25% for 2 s...',
        `analysis at 25%: FAIL (canary green 2250 req, 100.00% 5xx, p99 2 ms; stable blue 6750 req, 0.00% 5xx, p99 2 ms)
  error-share FAIL; statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share minus the stable's 1 (limit 0.005); n 2250/6750 (min 100)
  error-ceiling FAIL; statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share 1 (limit 0.01); n 2250 (min 100)
  latency INCONCLUSIVE; no test (too few samples); canary's median over the stable's n/a (limit 1.5); n 0/6750 (min 100)
  p99-ceiling INCONCLUSIVE; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) n/a (limit 500); n 0 (min 100)`,
        "moving all live traffic back to blue (the analysis failed 2 interval(s) in a row (the failure limit is 2): error-share FAIL: green 2250 of 2250 5xx (100.00%), blue 0 of 6750 (0.00%); statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share minus the stable's 1 (limit 0.005); n 2250/6750 (min 100); error-ceiling FAIL: green 2250 of 2250 5xx (100.00%); statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share 1 (limit 0.01); n 2250 (min 100))",
      ],
      statusFile: [
        '25% step 1 of 25,50,100 every 2000 ms, analysis at 1970-01-01T00:16:42.400Z, last none',
        '25% step 1 of 25,50,100 every 2000 ms, analysis at 1970-01-01T00:16:46.800Z, last 25% fail',
      ],
      history: [
        'started at 0%, live blue 100 / green 0, preview green, steps 25,50,100 every 2000 ms, intervals [], gates health-streak, predict, signature',
        "broken at 25%, live blue 75 / green 25, preview green, steps 25,50,100 every 2000 ms, intervals [25% fail, 25% fail], gates health-streak, predict, signature; reason: the analysis failed 2 interval(s) in a row (the failure limit is 2): error-share FAIL: green 2250 of 2250 5xx (100.00%), blue 0 of 6750 (0.00%); statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share minus the stable's 1 (limit 0.005); n 2250/6750 (min 100); error-ceiling FAIL: green 2250 of 2250 5xx (100.00%); statistic 2250; p < 1e-300 (Holm < 1e-300) vs alpha 0.01; canary's 5xx share 1 (limit 0.01); n 2250 (min 100); moving the traffic back to blue failed: EACCES: rename live-slot-03.sock (green at 0%)",
      ],
    });
  });

  it('given steps of 100 only, then it promotes straight after the preflight', async () => {
    expect(view(await canary(scriptedBackend({ perRead: 1_000 }), start, { steps: [100] }))).toEqual({
      result:
        'promoted (ok) at 100%, live blue 0 / green 100, preview blue, v1.0.0 -> v1.1.0, 0 interval(s), gates health-streak, predict, signature, router-serves-target',
      routeMoves: [100],
      lines: [
        "preflight: checking green before it takes a share of blue's traffic",
        'promoting green (the last step is 100%): all live traffic to green',
        'waiting 900 ms for the connections nginx kept to the previous color to retire',
      ],
      statusFile: [],
      history: [
        'started at 0%, live blue 100 / green 0, preview green, steps 100 every 2000 ms, intervals [], gates health-streak, predict, signature',
        'promoted at 100%, live blue 0 / green 100, preview blue, steps 100 every 2000 ms, intervals [], gates health-streak, predict, signature, router-serves-target',
      ],
    });
  });

  it('given a canary interrupted at 25%, when resumed, then it holds 25% first and goes on with the interrupted steps and interval', async () => {
    const backend = scriptedBackend({ perRead: 1_000, routes: { live: { blue: 75, green: 25 }, preview: { blue: 0, green: 100 } } });
    await stateFolderStores(layout).history.append({
      schemaVersion: HISTORY_SCHEMA_VERSION,
      time: '2026-12-01T10:00:00.000Z',
      user: 'ci',
      backend: 'local',
      durationMs: 10,
      command: 'canary',
      outcome: 'started',
      stable: 'blue',
      canary: 'green',
      stableVersion: 'v1.0.0',
      canaryVersion: 'v1.1.0',
      steps: [10, 25, 75, 100],
      intervalMs: 3_000,
      weight: 0,
      resumed: false,
      intervals: [],
      routes: routesWithLive('blue'),
      gates: [],
    });
    expect(view(await canary(backend, { kind: 'resume', keep: false }, {}))).toEqual({
      result:
        'promoted (ok) at 100%, live blue 0 / green 100, preview blue, v1.0.0 -> v1.1.0, 2 interval(s), gates health-streak, predict, signature, router-serves-target',
      routeMoves: [75, 100],
      lines: [
        'Resuming the canary of green at 25% (steps 10, 25, 75, 100, every 3 s).',
        "preflight: checking green before it takes a share of blue's traffic",
        'analysing green at 25% for 3 s...',
        `analysis at 25%: PASS (canary green 3250 req, 0.00% 5xx, p99 2 ms; stable blue 9750 req, 0.00% 5xx, p99 2 ms)
  error-share PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share minus the stable's 0 (limit 0.005); n 3250/9750 (min 100)
  error-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share 0 (limit 0.01); n 3250 (min 100)
  latency PASS; statistic 15840000; p 1.000 (Holm 1.000) vs alpha 0.01; canary's median over the stable's 1 (limit 1.5); n 3250/9750 (min 100)
  p99-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) 2 (limit 500); n 3250 (min 100)`,
        'step 2 of 3: green at 75% (live blue 25% / green 75%), moved in 0 ms',
        'analysing green at 75% for 3 s...',
        `analysis at 75%: PASS (canary green 9750 req, 0.00% 5xx, p99 2 ms; stable blue 3250 req, 0.00% 5xx, p99 2 ms)
  error-share PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share minus the stable's 0 (limit 0.005); n 9750/3250 (min 100)
  error-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's 5xx share 0 (limit 0.01); n 9750 (min 100)
  latency PASS; statistic 15840000; p 1.000 (Holm 1.000) vs alpha 0.01; canary's median over the stable's 1 (limit 1.5); n 9750/3250 (min 100)
  p99-ceiling PASS; statistic 0; p 1.000 (Holm 1.000) vs alpha 0.01; canary's p99 (ms) 2 (limit 500); n 9750 (min 100)`,
        'promoting green (every step passed its analysis): all live traffic to green',
        'waiting 900 ms for the connections nginx kept to the previous color to retire',
      ],
      statusFile: [
        '25% step 1 of 25,75,100 every 3000 ms, analysis at 1970-01-01T00:16:43.400Z, last none',
        '75% step 2 of 25,75,100 every 3000 ms, analysis at 1970-01-01T00:16:48.800Z, last 25% pass',
      ],
      history: [
        'started at 0%, live blue 100 / green 0, preview green, steps 10,25,75,100 every 3000 ms, intervals [], gates ',
        'started at 25% (resumed), live blue 75 / green 25, preview green, steps 10,25,75,100 every 3000 ms, intervals [], gates health-streak, predict, signature',
        'promoted at 100% (resumed), live blue 0 / green 100, preview blue, steps 10,25,75,100 every 3000 ms, intervals [25% pass, 75% pass], gates health-streak, predict, signature, router-serves-target',
      ],
    });
  });

  const split: Routes = { live: { blue: 75, green: 25 }, preview: { blue: 0, green: 100 } };
  it('given a canary interrupted at 25%, then --abort moves all traffic back', async () => {
    expect(view(await canary(scriptedBackend({ routes: split }), { kind: 'abort' }, {}))).toEqual({
      result: 'aborted (ok) at 0%, live blue 100 / green 0, preview green, null -> null, 0 interval(s), gates ',
      routeMoves: [0],
      lines: ['aborting the canary of green (at 25%)', 'waiting 1100 ms for the connections nginx kept to the previous color to retire'],
      statusFile: [],
      history: ['aborted at 0% (resumed), live blue 100 / green 0, preview green, steps 25,100 every 1000 ms, intervals [], gates '],
    });
  });

  it('given a canary interrupted at 25%, then deploy:promote moves all traffic to the canary, verified through nginx', async () => {
    expect(view(await canary(scriptedBackend({ routes: split }), { kind: 'promote' }, {}))).toEqual({
      result: 'promoted (ok) at 100%, live blue 0 / green 100, preview blue, null -> null, 0 interval(s), gates ',
      routeMoves: [100],
      lines: ['promoting the canary of green (at 25%)', 'waiting 900 ms for the connections nginx kept to the previous color to retire'],
      statusFile: [],
      history: ['promoted at 100% (resumed), live blue 0 / green 100, preview blue, steps 25,100 every 1000 ms, intervals [], gates '],
    });
  });

  it('given a canary interrupted at 25%, when nginx does not follow deploy:promote, then the weight is put back and it fails', async () => {
    const backend = scriptedBackend({ routes: split, routerStuckOn: 'blue' });
    await expect(canary(backend, { kind: 'promote' }, {})).rejects.toMatchObject({
      code: 'VERIFY_FAILED',
      message: expect.stringContaining("the canary's weight was put back to 25%"),
    });
    expect(backend.routeLog).toEqual([100, 25]);
    expect(readHistory(layout.historyFile).entries).toEqual([]);
  });

  it("prints the result's fields in one order under --json, whichever way the canary ended", async () => {
    const keys = async (script: Script, request: CanaryRequest, stop = true) =>
      Object.keys(
        (
          await canary(
            scriptedBackend(script),
            request,
            {},
            { onProgress: (line, signals) => (signals.stop = stop && line.startsWith('analysing')) },
          )
        ).result,
      );
    const common = ['kind', 'stable', 'canary', 'stableVersion', 'canaryVersion', 'weight', 'routes', 'intervals', 'gates'];
    expect(await keys({ perRead: 1_000 }, start, false)).toEqual(common);
    expect(await keys({ perRead: 1_000 }, start)).toEqual([...common, 'reason']);
    expect(await keys({ perRead: 1_000 }, { ...start, keep: true })).toEqual([...common, 'reason']);
    expect(await keys({ perRead: 1_000, failMoveTo: [0] }, start)).toEqual([...common, 'reason']);
    expect(await keys({ routes: split }, { kind: 'abort' })).toEqual(common);
  });

  it('given no canary, then --abort is refused', async () => {
    await expect(canary(scriptedBackend({}), { kind: 'abort' }, {})).rejects.toMatchObject({ code: 'CANARY_NOT_RUNNING' });
  });
});
