import { type ChildProcess, spawn } from 'node:child_process';
import { readRouteLinks } from '../../backends/local/nginx/route-links';
import { type CanaryEntry, readHistory } from '../../history/history';
import type { Weights } from '../../routing/routes';
import { since, snapshot, startLoad } from '../../testing/load';
import { describeWithBinary, findBinary } from '../../testing/real-tools';
import { type CliRun, StackHarness, WORKSPACE_ROOT } from '../../testing/stack-harness';

jest.setTimeout(240_000);
const NGINX = findBinary('nginx');
/**
 * Short intervals keep the run short; the probes (deploy/canary-samples.json) bring each to the
 * minimum request count. Green serves v1.1.0, whose answers differ from blue's v1.0.0 by design:
 * declared, so the judge shows the answers' checks without counting them (canary-judge.int.spec.ts judges them).
 */
const QUICK = ['--steps=25,50,100', '--interval=3s', '--expect-output-change'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithBinary(NGINX, 'nginx')('deploy:canary on the local stack (real nginx, real colors)', () => {
  let stack: StackHarness;
  beforeAll(async () => {
    stack = await StackHarness.create('canary');
    expect((await stack.up()).code).toBe(0);
  });
  afterAll(async () => {
    if (stack) expect(await stack.destroy()).toEqual([]);
  });

  const liveWeights = (): Weights | undefined => readRouteLinks(stack.layout, 20).live;
  const canaries = (): CanaryEntry[] =>
    readHistory(stack.layout.historyFile).entries.filter((entry): entry is CanaryEntry => entry.command === 'canary');
  /** Polls the slot links until green holds `weight` (bounded by `withinMs`, a deadline of the canary's own first step). */
  async function untilGreenAt(weight: number, withinMs: number): Promise<void> {
    const deadline = Date.now() + withinMs;
    while (liveWeights()?.green !== weight) {
      if (Date.now() > deadline) throw new Error(`green never reached ${weight}% (live is ${JSON.stringify(liveWeights())})`);
      await sleep(50);
    }
  }
  /** The CLI as its own process (so it can be signalled or killed), on this stack. */
  function spawnCli(...argv: string[]): {
    child: ChildProcess;
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  } {
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_ENV' && !key.startsWith('JEST')));
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'libs/deploy/src/cli/main.ts', ...argv], {
      cwd: WORKSPACE_ROOT,
      env: { ...env, SWC_NODE_PROJECT: 'libs/deploy/tsconfig.lib.json', BLUEGREEN_STATE_DIR: stack.stateDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return { child, exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr }))) };
  }
  const resultOf = (run: CliRun) =>
    run.json<{
      ok: boolean;
      result: {
        kind: string;
        weight: number;
        intervals: { weight: number; verdict: string; probesSent: number; canary: { requests: number; errors: number } }[];
      };
      error?: { code: string; message: string };
    }>();

  it('given no traffic, when a canary of green runs, then probes give every interval enough requests and it is promoted; rollback returns to blue', async () => {
    const run = await stack.cli('canary', '--color=green', ...QUICK, '--json');
    const json = resultOf(run);
    console.log(
      `canary with probes only:\n${run.stderr
        .split('\n')
        .filter((line) => line.startsWith('analysis at'))
        .join('\n')}${run.code === 0 ? '' : `\n${JSON.stringify(json.error)}`}`,
    );
    expect({ code: run.code, kind: json.result.kind }).toEqual({ code: 0, kind: 'promoted' });
    // Each step ends with a passing interval (a noisy one before it only holds the step: failureLimit 2).
    expect([
      ...new Set(json.result.intervals.filter((interval) => interval.verdict === 'pass').map((interval) => interval.weight)),
    ]).toEqual([25, 50]);
    expect(json.result.intervals.every((interval) => interval.probesSent > 0 && interval.canary.requests >= 100)).toBe(true);
    expect(run.stderr).toContain('step 2 of 3: green at 50%');
    expect((await stack.serving()).color).toBe('green');
    expect(canaries().map((entry) => entry.outcome)).toEqual(['started', 'promoted']);

    const back = await stack.cli('rollback', '--json');
    expect(back.code).toBe(0);
    expect(back.json<{ result: { from: string; to: string } }>().result).toMatchObject({ from: 'green', to: 'blue' });
    expect(liveWeights()).toEqual({ blue: 100, green: 0 });
  });

  it('given live traffic, when the canary color crash-loops mid-canary (killed whenever the supervisor restarts it), then the analysis fails, all traffic returns to blue in one step, the numbers are recorded and the command exits non-zero', async () => {
    const load = startLoad(`http://127.0.0.1:${stack.ports.router}`, { connections: 4, maxSeconds: 90 });
    try {
      await load.waitFor(200);
      const running = stack.cli('canary', '--color=green', '--steps=25,50,100', '--interval=4s', '--expect-output-change', '--json');
      await untilGreenAt(25, 30_000);
      // The supervisor restarts a killed replica; killing every replica of the color again whenever it is
      // back makes it a crash loop (after 5 restarts in a row the supervisor gives up on it), a canary that really fails.
      let crashing = true;
      const crashLoop = (async () => {
        while (crashing) {
          for (const pid of stack.replicaPids('green')) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
          await sleep(100);
        }
      })();
      const run = await running.finally(() => (crashing = false));
      await crashLoop;
      const json = resultOf(run);
      expect({ code: run.code, kind: json.result.kind, error: json.error?.code }).toEqual({
        code: 1,
        kind: 'rolled-back',
        error: 'CANARY_FAILED',
      });
      expect(json.error?.message).toMatch(/error-(share|ceiling) FAIL: green \d+ of \d+ 5xx/);
      expect(liveWeights()).toEqual({ blue: 100, green: 0 });
      const entry = canaries().at(-1);
      expect(entry).toMatchObject({ outcome: 'rolled-back', weight: 0, routes: { live: { blue: 100, green: 0 } } });
      expect(entry?.intervals[0]).toMatchObject({ weight: 25, verdict: 'fail' });
      expect(entry?.intervals[0]?.canary.errors).toBeGreaterThan(0);

      // After the rollback every client gets blue again.
      const after = snapshot(load.counts);
      await load.waitFor(after.total + 500);
      const window = since(after, load.counts);
      expect({
        notOk: window.notOk,
        versions: [...window.byVersion.entries()].filter(([, count]) => count > 0).map(([version]) => version),
      }).toEqual({ notOk: 0, versions: ['v1.0.0'] });
    } finally {
      await load.stop();
    }
    expect((await stack.cli('release', '--model=models/v1.1.0/model.onnx')).code).toBe(0);
  });

  it('given a canary killed with kill -9 at 25%, then status says it was interrupted there and --resume carries it on to promotion', async () => {
    const { child, exited } = spawnCli('canary', '--color=green', '--steps=25,50,100', '--interval=20s');
    await untilGreenAt(25, 60_000);
    child.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');

    const status = await stack.cli('status');
    expect(status.stdout).toContain('Canary interrupted at 25% (green; stable blue) (steps 25, 50, 100)');
    const statusJson = (await stack.cli('status', '--json')).json<{ result: { canary: { state: string; weight: number } } }>();
    expect(statusJson.result.canary).toMatchObject({ state: 'interrupted', weight: 25 });

    // The resumed canary keeps the interrupted one's steps and its 20 s interval; promote it from another command instead of waiting.
    const resumed = spawnCli('canary', '--resume');
    await untilGreenAt(25, 30_000);
    const deadline = Date.now() + 30_000;
    let runningStatus = '';
    while (!runningStatus.includes('Canary: green at 25%') && Date.now() < deadline) {
      runningStatus = (await stack.cli('status')).stdout;
      await sleep(200);
    }
    expect(runningStatus).toMatch(/Canary: green at 25%, step 1 of 3 \(steps 25, 50, 100\), next analysis in \d+ s \(pid \d+\)/);
    // The running canary holds the lock: neither a switch nor a second canary can cut across it.
    for (const argv of [
      ['switch', '--color=blue'],
      ['canary', '--color=green'],
    ]) {
      const refused = await stack.cli(...argv, '--json');
      expect({ argv, code: refused.code, error: resultOf(refused).error?.code }).toEqual({ argv, code: 1, error: 'LOCKED' });
    }
    expect(liveWeights()).toEqual({ blue: 75, green: 25 });
    const promote = await stack.cli('promote', '--json');
    expect(promote.code).toBe(0);
    const ended = await resumed.exited;
    expect({ code: ended.code }).toEqual({ code: 0 });
    expect(liveWeights()).toEqual({ blue: 0, green: 100 });
    expect(
      canaries()
        .slice(-2)
        .map((entry) => [entry.outcome, entry.resumed]),
    ).toEqual([
      ['started', true],
      ['promoted', true],
    ]);
    expect((await stack.cli('rollback')).code).toBe(0);
  });

  it('given a running canary, SIGTERM moves the weight back; with --keep it stays, and --abort then moves it back', async () => {
    const stopped = spawnCli('canary', '--color=green', '--steps=25,50,100', '--interval=20s');
    await untilGreenAt(25, 60_000);
    stopped.child.kill('SIGTERM');
    const end = await stopped.exited;
    expect({ code: end.code, back: liveWeights() }).toEqual({ code: 1, back: { blue: 100, green: 0 } });
    expect(end.stderr).toContain('The canary was stopped before it finished.');
    expect(canaries().at(-1)?.outcome).toBe('stopped');

    const kept = spawnCli('canary', '--color=green', '--steps=25,50,100', '--interval=20s', '--keep');
    await untilGreenAt(25, 60_000);
    kept.child.kill('SIGINT');
    expect((await kept.exited).code).toBe(1);
    expect(liveWeights()).toEqual({ blue: 75, green: 25 });
    expect(canaries().at(-1)?.outcome).toBe('kept');

    const abort = await stack.cli('canary', '--abort', '--json');
    expect({ code: abort.code, kind: resultOf(abort).result.kind }).toEqual({ code: 0, kind: 'aborted' });
    expect(liveWeights()).toEqual({ blue: 100, green: 0 });
    expect((await stack.serving()).color).toBe('blue');
  });
});
