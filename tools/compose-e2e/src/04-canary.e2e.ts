import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CanaryInterval, HistoryEntry, commandOutput } from '@mlbg/contract';
import {
  analysisLines,
  composeCanaryDeadlineMs,
  composeDashboardShowsWithinMs,
  composeReleaseDeadlineMs,
  intervalsToPass,
  intervalsToRollBack,
  loadDeploymentSpec,
  startDashboardProcess,
} from '@mlbg/deploy/testing';
import { COMMAND_TIMEOUT_MS, deployCli, docker, dockerOk, exec, killProcess, WORKSPACE_ROOT } from './support/exec';
import { healthVerdictMs } from './support/engine';
import { ask, serving, waitUntil } from './support/http';
import { answeredBetween, startLoad } from './support/load';
import { recordTiming } from './support/timings';

/**
 * `deploy:canary --backend=compose` on the real engine, under 32 keep-alive clients through the
 * Compose nginx: the weights move by renaming slot links in the socket volume, the judge reads
 * nginx's access log on the bind mount and each replica's /metrics and prediction records from
 * inside its container. Short intervals (3 s) keep the file within its time budget.
 */
const LABEL = 'org.mlbg.compose-e2e.test';
/** The judge's negated-slope fixture (tools/models): v1.0.0's signature, every answer's sign flipped. */
const NEGATED = 'models/fixtures/negated-slope/model.onnx';
const NEGATED_IMAGE = 'ml-model-service:e2e-negated-slope';
const SPEC = loadDeploymentSpec(join(WORKSPACE_ROOT, 'deploy/deployment.json'));
/** The committed spec with these `canary.analysis` settings (what `specWith` below writes for BLUEGREEN_SPEC). */
type Analysis = Partial<typeof SPEC.canary.analysis>;
const specOf = (analysis: Analysis) => ({ ...SPEC, canary: { ...SPEC.canary, analysis: { ...SPEC.canary.analysis, ...analysis } } });
/** A release recreates two replicas one by one, each healthy before the next (20-40 s here): its limit is the tool's own deadlines. */
const RELEASE_TIMEOUT_MS = composeReleaseDeadlineMs(SPEC);
/**
 * A test's limit on a canary (20-30 s here alone, longer in a full run): the tool's own deadlines for the intervals the
 * outcome it expects may take (composeCanaryDeadlineMs), never a time that happened to hold. A
 * canary killed half way leaves the routes split, and the next test's release refused. The limit
 * is hours, made of engine commands that each took their whole timeout: a hang meets CI's own limit first.
 */
const canaryLimit = (steps: number[], intervalMs: number, outcome: 'promoted' | 'rolled-back', analysis: Analysis = {}) => {
  const spec = specOf(analysis);
  const intervals = outcome === 'promoted' ? intervalsToPass(spec, steps) : intervalsToRollBack(spec);
  return composeCanaryDeadlineMs(spec, { steps, intervalMs, intervals });
};
const GOOD = { steps: [5, 25, 50, 100], intervalMs: 3_000 };
const GOOD_LIMIT_MS = canaryLimit(GOOD.steps, GOOD.intervalMs, 'promoted');
/** Aborted in its first interval (60 s): one interval. */
const ABORTED_LIMIT_MS = composeCanaryDeadlineMs(SPEC, { steps: [50, 100], intervalMs: 60_000, intervals: 1 });
/** Until a canary's first step has moved: its preflight, warm-up and moves, no interval. */
const FIRST_MOVE_LIMIT_MS = composeCanaryDeadlineMs(SPEC, { steps: [50, 100], intervalMs: 0, intervals: 0 });
const CRASH_LOOP = { failureLimit: 1 };
const CRASH_LOOP_LIMIT_MS = canaryLimit([50, 100], 3_000, 'rolled-back', CRASH_LOOP);
const NEGATED_LIMIT_MS = canaryLimit([25, 100], 3_000, 'rolled-back');
const HANG = { failureLimit: 1, maxInconclusive: 1 };
const HANG_LIMIT_MS = canaryLimit([50, 100], 3_000, 'rolled-back', HANG);
const ENV_FILE = join(WORKSPACE_ROOT, '.env');

/**
 * `deploy:canary --json`'s document, by the contract's schema. A canary that ran has a result (also
 * when it was rolled back or stopped); `noop` and none are failures here.
 */
function canaryOutput(stdout: string) {
  const out = commandOutput('canary').parse(JSON.parse(stdout));
  if (out.result === null || out.result.kind === 'noop') throw new Error(`deploy:canary printed no canary run: ${stdout.slice(0, 500)}`);
  return { ...out, result: out.result };
}
const verdicts = (interval: CanaryInterval | undefined) =>
  Object.fromEntries((interval?.judgement?.checks ?? []).map((check) => [check.name, check.verdict]));

describe('a canary on Compose (deploy:canary --backend=compose), under 32 keep-alive clients', () => {
  let stateDir: string;
  /** .env before this file (the releases below write it): put back afterwards, so a later `up` runs the committed models. */
  let envBefore: string | undefined;
  let load: ReturnType<typeof startLoad> | undefined;

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'compose-e2e-canary-'));
    envBefore = existsSync(ENV_FILE) ? readFileSync(ENV_FILE, 'utf8') : undefined;
    // Green is live since 02-switch-under-load; blue idle on v1.0.0.
    expect(await serving(80)).toMatchObject({ status: 200, color: 'green', version: 'v1.1.0' });
  });
  afterAll(async () => {
    await load?.stop();
    if (envBefore === undefined) rmSync(ENV_FILE, { force: true });
    else writeFileSync(ENV_FILE, envBefore);
    rmSync(stateDir, { recursive: true, force: true });
  });

  const cli = (args: string[], timeoutMs: number, env: Record<string, string> = {}) =>
    deployCli([...args, '--backend=compose', `--state-dir=${stateDir}`], { timeoutMs, env });
  const release = async (...args: string[]) => {
    const result = await cli(['release', ...args], RELEASE_TIMEOUT_MS);
    expect({ args, status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ args, status: 0, stderr: '' });
  };
  const history = () =>
    readFileSync(join(stateDir, 'history.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => HistoryEntry.parse(JSON.parse(line)));

  it(
    "given blue released with live green's model, when a canary moves it 5 -> 25 -> 50 -> 100 %, then the judge passes each step, each step's share is its weight's, it is promoted, and no client request fails",
    async () => {
      await release('--model=models/v1.1.0/model.onnx', '--color=blue');
      const started = Date.now();
      load = startLoad(80, 32);
      const run = await cli(
        ['canary', '--color=blue', `--steps=${GOOD.steps.join()}`, `--interval=${GOOD.intervalMs}ms`, '--json'],
        GOOD_LIMIT_MS,
      );
      const report = await load.stop();
      load = undefined;
      const out = canaryOutput(run.stdout);
      const analyses = analysisLines(run.stderr);
      const took = out.result.intervals.map((interval) => `${interval.weight}% ${(interval.durationMs / 1000).toFixed(1)} s`).join(', ');
      console.log(`good canary in ${((Date.now() - started) / 1000).toFixed(0)} s (intervals: ${took}):\n${analyses.join('\n')}`);
      recordTiming('canary 5/25/50/100 promoted under load', Date.now() - started, `${report.requests} requests, ${report.failed} failed`);
      expect({ status: run.status, kind: out.result.kind, error: out.error?.message }).toEqual({
        status: 0,
        kind: 'promoted',
        error: undefined,
      });
      // A 5 % interval may hold for more data (inconclusive) before it passes; every later step passes at once.
      expect(
        out.result.intervals
          .filter((interval) => interval.verdict !== 'inconclusive')
          .map((interval) => [interval.weight, interval.verdict]),
      ).toEqual([
        [5, 'pass'],
        [25, 'pass'],
        [50, 'pass'],
      ]);
      // The answers were judged (records read from inside the containers), not only errors and latency.
      for (const interval of out.result.intervals.filter((item) => item.verdict === 'pass'))
        expect(verdicts(interval)).toMatchObject({ 'output-distribution': 'pass' });
      // Each interval's canary share is its weight's, within a binomial bound: |share - w| <= 4 sqrt(w (1 - w) / n)
      // (nginx picks a slot per request at random by its request id, so a request reaches the canary with probability w;
      // 4 standard deviations: a false alarm about once in 16,000 intervals). Measured twice:
      // - by the tool (nginx's access log in the interval's window): each window starts after its move took effect, so its
      //   lines were all served at its weight. Its probes to the canary (through /preview/, only while the canary has fewer
      //   than the minimum requests; the stable color, at 50 % or more of 32 clients, is never short) are not clients' traffic;
      // - by the clients (x-color of each 200 answered within the interval's window).
      const shares = out.result.intervals.map((interval) => {
        const weight = interval.weight / 100;
        const within = (by: number, total: number) => Math.abs(by / total - weight) <= 4 * Math.sqrt((weight * (1 - weight)) / total);
        const logged = {
          by: interval.canary.requests - interval.probesSent,
          total: interval.canary.requests + interval.stable.requests - interval.probesSent,
        };
        const startedAt = Date.parse(interval.startedAt);
        const clients = answeredBetween(report, startedAt, startedAt + interval.durationMs, 'blue');
        console.log(
          `canary at ${interval.weight}%: share ${(logged.by / logged.total).toFixed(3)} of ${logged.total} in nginx's log (${interval.probesSent} probes left out), ${(clients.by / clients.total).toFixed(3)} of ${clients.total} answered to the clients`,
        );
        return {
          weight: interval.weight,
          logged: logged.total > 200 && within(logged.by, logged.total),
          clients: clients.total > 200 && within(clients.by, clients.total),
        };
      });
      expect(shares).toEqual(out.result.intervals.map((interval) => ({ weight: interval.weight, logged: true, clients: true })));
      expect(report.failures).toEqual([]);
      expect(report.byStatus).toEqual({ '200': report.requests });
      expect(Object.keys(report.byColorVersion).sort()).toEqual(['blue v1.1.0', 'green v1.1.0']);
      expect(await serving(80)).toMatchObject({ status: 200, color: 'blue', version: 'v1.1.0' });
      // Every slot link in the volume points at blue.
      expect(await dockerOk(['exec', 'ml-nginx', 'sh', '-c', 'cd /run/mlbg && readlink live-slot-* | sort -u'])).toBe('blue');
      expect(history().at(-1)).toMatchObject({ command: 'canary', outcome: 'promoted' });
    },
    RELEASE_TIMEOUT_MS + GOOD_LIMIT_MS,
  );

  /** How many of the 20 live slot links point at green now. */
  const greenSlots = async () =>
    Number(await dockerOk(['exec', 'ml-nginx', 'sh', '-c', 'cd /run/mlbg && readlink live-slot-* | grep -c green || true']));
  /** Resolves once green has live slots (its first step moved), or after `timeoutMs`. */
  const untilGreenTakesTraffic = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (await greenSlots()) === 0) await new Promise((resolve) => setTimeout(resolve, 250));
    return greenSlots();
  };
  /** The committed spec with these `canary.analysis` settings, as a file for BLUEGREEN_SPEC. */
  const specWith = (analysis: Analysis) => {
    const spec = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'deploy/deployment.json'), 'utf8')) as { canary: { analysis: object } };
    spec.canary.analysis = { ...spec.canary.analysis, ...analysis };
    const file = join(stateDir, 'deployment.json');
    writeFileSync(file, JSON.stringify(spec));
    return file;
  };

  it(
    'given a canary of green at 50 % under load, shown by the dashboard, when `deploy:canary --abort` runs, then everything is back on blue in one move and no client request fails',
    async () => {
      const started = Date.now();
      const dashboard = await startDashboardProcess(stateDir, ['--backend=compose', '--read-only']);
      load = startLoad(80, 32);
      const running = cli(['canary', '--color=green', '--steps=50,100', '--interval=60s', '--json'], ABORTED_LIMIT_MS);
      expect(await untilGreenTakesTraffic(FIRST_MOVE_LIMIT_MS)).toBe(10);
      // The dashboard's page shows the running canary as it does a local one (its /api/state, the contract's snapshot).
      // Asserted after the abort: a canary left running would promote green under the next test.
      const shown = await waitUntil('the dashboard shows the canary at 50%', composeDashboardShowsWithinMs(), async () => {
        const state = await dashboard.state();
        return state.stack.status?.canary?.weight === 50 || JSON.stringify(state.stack.status?.canary ?? state.stack.error);
      })
        .then(async () => {
          const { backend, stack } = await dashboard.state();
          return { backend, error: stack.error, canary: stack.status?.canary };
        })
        .catch((error: Error) => ({ error: error.message }))
        .finally(() => dashboard.stop());
      // --abort waits for the running canary to move back: the same limit.
      const abort = await cli(['canary', '--abort', '--json'], ABORTED_LIMIT_MS);
      const run = await running;
      const report = await load.stop();
      load = undefined;
      recordTiming('canary at 50% aborted under load', Date.now() - started, `${report.requests} requests, ${report.failed} failed`);
      expect(shown).toMatchObject({
        backend: 'compose',
        error: null,
        canary: { state: 'running', stable: 'blue', canary: 'green', weight: 50, steps: [50, 100], step: 1 },
      });
      expect({ abort: abort.status, stderr: abort.status === 0 ? '' : abort.stderr }).toEqual({ abort: 0, stderr: '' });
      const out = canaryOutput(run.stdout);
      expect({ status: run.status, kind: out.result.kind, error: out.error?.code }).toEqual({
        status: 1,
        kind: 'stopped',
        error: 'CANARY_STOPPED',
      });
      // One move: the running canary went from 50 % straight back to blue (no step in between).
      expect(run.stderr.split('\n').filter((line) => /^step \d/.test(line))).toEqual([
        expect.stringMatching(/^step 1 of 2: green at 50% /),
      ]);
      expect(out.result.intervals).toEqual([]);
      expect(await greenSlots()).toBe(0);
      expect(await serving(80)).toMatchObject({ status: 200, color: 'blue', version: 'v1.1.0' });
      expect(history().at(-1)).toMatchObject({ command: 'canary', outcome: 'stopped' });
      expect(report.failures).toEqual([]);
      expect(report.byStatus).toEqual({ '200': report.requests });
    },
    ABORTED_LIMIT_MS,
  );

  it(
    'given a canary of green whose containers are killed again and again (a crash loop), then it is rolled back by itself, exits 1, and the history has the numbers',
    async () => {
      const spec = specWith(CRASH_LOOP);
      const started = Date.now();
      load = startLoad(80, 32);
      const running = cli(['canary', '--color=green', '--steps=50,100', '--interval=3s', '--json'], CRASH_LOOP_LIMIT_MS, {
        BLUEGREEN_SPEC: spec,
      });
      let done = false;
      void running.then(() => (done = true));
      expect(await untilGreenTakesTraffic(FIRST_MOVE_LIMIT_MS)).toBe(10);
      let kills = 0;
      // SIGKILL to each replica's process from the host, as a crash would (`docker kill` is a manual stop, which the
      // restart policy respects: the containers would stay down). A replica the policy is restarting has no process yet.
      while (!done) {
        for (const container of ['ml-service-green', 'ml-service-green-2']) {
          const pid = (await docker(['inspect', '--format', '{{.State.Pid}}', container])).stdout.trim();
          if (/^[1-9]\d*$/.test(pid) && (await killProcess(pid)).status === 0) kills += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      const run = await running;
      const report = await load.stop();
      load = undefined;
      const out = canaryOutput(run.stdout);
      console.log(`crash loop (${kills} kills): ${out.result.reason}\n${analysisLines(run.stderr).join('\n')}`);
      recordTiming(
        'canary of a crash-looping color rolled back',
        Date.now() - started,
        `${kills} kills, ${report.failed} of ${report.requests} client requests failed`,
      );
      expect({ status: run.status, kind: out.result.kind, error: out.error?.code }).toEqual({
        status: 1,
        kind: 'rolled-back',
        error: 'CANARY_FAILED',
      });
      const failed = out.result.intervals.filter((interval) => interval.verdict === 'fail');
      expect(failed.length).toBe(1);
      expect(failed[0]?.canary.errorRate ?? 0).toBeGreaterThan(0.01);
      expect(verdicts(failed[0])).toMatchObject({ 'error-ceiling': 'fail' });
      expect(history().at(-1)).toMatchObject({
        command: 'canary',
        outcome: 'rolled-back',
        intervals: [
          expect.objectContaining({ weight: 50, verdict: 'fail', canary: expect.objectContaining({ requests: expect.any(Number) }) }),
        ],
      });
      expect(await greenSlots()).toBe(0);
      expect(await serving(80)).toMatchObject({ status: 200, color: 'blue', version: 'v1.1.0' });
      // The restart policy brings green back.
      const deadline = Date.now() + healthVerdictMs();
      while (Date.now() < deadline && (await serving(80, '/preview/health').catch(() => ({ status: 0 }))).status !== 200)
        await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await serving(80, '/preview/health')).toMatchObject({ status: 200, color: 'green' });
    },
    CRASH_LOOP_LIMIT_MS + healthVerdictMs(),
  );

  it(
    'given green released with a model whose slope is negated, when a canary runs, then the judge fails it on the answers alone, it is rolled back with the verdict, and no client request fails',
    async () => {
      // The fixtures are not in the image (.dockerignore): one more layer with the fixture on top of the built one.
      const context = mkdtempSync(join(tmpdir(), 'compose-e2e-fixture-'));
      copyFileSync(join(WORKSPACE_ROOT, NEGATED), join(context, 'model.onnx'));
      writeFileSync(
        join(context, 'Dockerfile'),
        ['FROM ml-model-service:green', `COPY model.onnx /app/${NEGATED}`, `LABEL ${LABEL}=negated-slope`].join('\n'),
      );
      const build = await exec('docker', ['build', '-q', '-t', NEGATED_IMAGE, context], {
        env: { DOCKER_BUILDKIT: '0' },
        timeoutMs: 120_000,
      });
      rmSync(context, { recursive: true, force: true });
      expect({ status: build.status, stderr: build.status === 0 ? '' : build.stderr }).toEqual({ status: 0, stderr: '' });
      await release(`--image=${NEGATED_IMAGE}`, `--model=${NEGATED}`, '--color=green');
      expect(await serving(80, '/preview/health')).toMatchObject({ status: 200, color: 'green', version: 'v1.0.1' });

      const started = Date.now();
      load = startLoad(80, 32);
      const run = await cli(['canary', '--color=green', '--steps=25,100', '--interval=3s', '--json'], NEGATED_LIMIT_MS);
      const report = await load.stop();
      load = undefined;
      const out = canaryOutput(run.stdout);
      console.log(`negated slope:\n${analysisLines(run.stderr).join('\n')}`);
      recordTiming(
        'canary of a wrong model rolled back under load',
        Date.now() - started,
        `${report.requests} requests, ${report.failed} failed`,
      );
      expect({ status: run.status, kind: out.result.kind, error: out.error?.code }).toEqual({
        status: 1,
        kind: 'rolled-back',
        error: 'CANARY_FAILED',
      });
      const failed = out.result.intervals.filter((interval) => interval.verdict === 'fail');
      expect(failed.length).toBeGreaterThanOrEqual(2);
      for (const interval of failed) expect(verdicts(interval)).toMatchObject({ 'error-share': 'pass', 'output-distribution': 'fail' });
      // The verdict is in the command's output and in the history, with its numbers.
      expect(out.result.reason).toMatch(/output-distribution FAIL: green's \d+ answers against blue's \d+: KS D 1 /);
      expect(history().at(-1)).toMatchObject({
        command: 'canary',
        outcome: 'rolled-back',
        reason: expect.stringMatching(/output-distribution FAIL/),
      });
      expect(report.failures).toEqual([]);
      expect(report.byStatus).toEqual({ '200': report.requests });
      // Asked afterwards of the window the canary ran in (nginx's log on the bind mount, the records in the containers): it fails on its answers.
      const judged = await cli(['judge', '--since=2m', '--color=green', '--json'], COMMAND_TIMEOUT_MS);
      const again = commandOutput('judge').parse(JSON.parse(judged.stdout)).result;
      expect({ status: judged.status, verdict: again?.judgement.verdict }).toEqual({ status: 1, verdict: 'fail' });
      expect(again?.judgement.checks.find((check) => check.name === 'output-distribution')?.verdict).toBe('fail');
      // Clients saw the wrong model only at its weight, and all of live is back on blue.
      expect(await serving(80)).toMatchObject({ status: 200, color: 'blue', version: 'v1.1.0' });
      expect(await dockerOk(['exec', 'ml-nginx', 'sh', '-c', 'cd /run/mlbg && readlink live-slot-* | sort -u'])).toBe('blue');
    },
    RELEASE_TIMEOUT_MS + NEGATED_LIMIT_MS + COMMAND_TIMEOUT_MS,
  );

  it('keeps the records internal: /admin/predictions through nginx is refused, while the containers keep a bounded log', async () => {
    for (const path of ['/admin/predictions', '/preview/admin/predictions']) {
      const answer = await ask(80, path);
      expect({ path, status: answer.status, body: answer.body }).toEqual({
        path,
        status: 404,
        body: expect.stringContaining('INTERNAL_ROUTE'),
      });
    }
    const env = await dockerOk(['inspect', '--format', '{{range .Config.Env}}{{println .}}{{end}}', 'ml-service-blue-2']);
    expect(env.split('\n')).toContain('PREDICTION_LOG_SIZE=1000');
  });

  it(
    'given a canary of green (the negated model, --expect-output-change: only the hang counts) whose containers hang (docker pause), then it is rolled back by itself, exits 1, and the history has the numbers',
    async () => {
      const spec = specWith(HANG);
      const started = Date.now();
      load = startLoad(80, 32);
      const running = cli(
        ['canary', '--color=green', '--steps=50,100', '--interval=3s', '--expect-output-change', '--json'],
        HANG_LIMIT_MS,
        { BLUEGREEN_SPEC: spec },
      );
      let settled = false;
      void running.then(() => (settled = true));
      try {
        expect(await untilGreenTakesTraffic(FIRST_MOVE_LIMIT_MS)).toBe(10);
        await dockerOk(['pause', 'ml-service-green', 'ml-service-green-2']);
        const run = await running;
        const out = canaryOutput(run.stdout);
        console.log(`hang: ${out.result.reason}\n${analysisLines(run.stderr).join('\n')}`);
        expect({ status: run.status, kind: out.result.kind, error: out.error?.code }).toEqual({
          status: 1,
          kind: 'rolled-back',
          error: 'CANARY_FAILED',
        });
        expect(history().at(-1)).toMatchObject({
          command: 'canary',
          outcome: 'rolled-back',
          intervals: [expect.objectContaining({ weight: 50, canary: expect.objectContaining({ requests: expect.any(Number) }) })],
        });
        expect(await greenSlots()).toBe(0);
      } finally {
        await docker(['unpause', 'ml-service-green', 'ml-service-green-2']);
        // When the pause itself failed, the canary of a healthy green would go on to promote it: stop it.
        if (!settled) await cli(['canary', '--abort'], HANG_LIMIT_MS);
        await running;
        const report = await load.stop();
        load = undefined;
        recordTiming(
          'canary of a hung color rolled back',
          Date.now() - started,
          `${report.failed} of ${report.requests} client requests failed`,
        );
      }
      expect(await serving(80)).toMatchObject({ status: 200, color: 'blue', version: 'v1.1.0' });
    },
    2 * HANG_LIMIT_MS,
  );
});
