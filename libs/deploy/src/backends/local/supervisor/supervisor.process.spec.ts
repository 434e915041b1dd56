import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHistory } from '../../../history/history';
import { processControl } from '../../../effects/real-deps';
import { WORKSPACE_ROOT } from '../../../testing/stack-harness';
import { type SupervisedProcess, type SupervisorPlan, backoffMs, readSupervisorStatus, writePlan } from './supervisor-files';

/**
 * The supervisor on its own, with real processes that are not colors (`node -e` scripts): it is
 * generic over "a named process with a command line, pid file, log file and probe", so a new
 * process of the stack (a relay) is one more plan entry.
 */
jest.setTimeout(60_000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('backoffMs', () => {
  it('starts at the initial delay, doubles, and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffMs(attempt, 200, 5_000))).toEqual([200, 400, 800, 1_600, 3_200, 5_000, 5_000]);
  });
});

describe('the supervisor process (real child processes, not colors)', () => {
  let dir: string;
  let supervisor: ChildProcess;
  const planFile = () => join(dir, 'plan.json');
  const status = () => readSupervisorStatus(join(dir, 'status.json'));
  const entry = (name: string, script: string, config = 'one'): SupervisedProcess => ({
    name,
    command: process.execPath,
    args: ['-e', script, '--', `--marker=${dir}`],
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '' },
    logFile: join(dir, `${name}.log`),
    pidFile: join(dir, `${name}.pid`),
    stopSignal: 'SIGTERM',
    match: { cmdline: [`--marker=${dir}`], env: {} },
    config,
    probe: null,
  });
  const plan = (processes: SupervisedProcess[]): SupervisorPlan => ({
    historyFile: join(dir, 'history.jsonl'),
    statusFile: join(dir, 'status.json'),
    user: 'tester',
    policy: {
      restartDelayMs: 50,
      maxRestartDelayMs: 200,
      maxRestarts: 3,
      stableAfterMs: 10_000,
      probeIntervalMs: 100,
      probeTimeoutMs: 500,
      unreadyLimitMs: 2_000,
      startGraceMs: 5_000,
    },
    processes,
  });
  const waitUntil = async (what: string, check: () => boolean, timeoutMs = 30_000) => {
    const end = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what} (status: ${JSON.stringify(status())})`);
      await sleep(25);
    }
  };
  const pidOf = (name: string) => status()?.processes[name]?.pid ?? null;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlbg-supervisor-spec-'));
  });
  afterEach(async () => {
    // Stopped before its processes are killed, so it can not restart them.
    if (supervisor && supervisor.exitCode === null && supervisor.signalCode === null) {
      const exited = once(supervisor, 'exit');
      supervisor.kill('SIGTERM');
      await exited;
    }
    for (const report of Object.values(status()?.processes ?? {})) if (report.pid) processControl.signal(report.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const start = (processes: SupervisedProcess[]) => {
    writePlan(planFile(), plan(processes));
    supervisor = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'supervisor-main.ts'), planFile()], {
      cwd: WORKSPACE_ROOT,
      env: { ...process.env, SWC_NODE_PROJECT: 'libs/deploy/tsconfig.lib.json' },
      stdio: 'ignore',
    });
  };

  it('restarts a process that keeps exiting with a growing back-off, then marks it failed with the last lines of its log', async () => {
    start([entry('flaky', 'console.error("boom: the config is bad"); process.exit(3)')]);
    await waitUntil('flaky is failed', () => status()?.processes['flaky']?.phase === 'failed');
    expect(status()?.processes['flaky']).toMatchObject({
      phase: 'failed',
      pid: null,
      restarts: 3,
      lastExit: { reason: 'exited with code 3' },
    });
    expect(status()?.processes['flaky']?.logTail).toContain('boom: the config is bad');
    // The history line is appended after the status file says failed (the history is written in order, off the event loop's
    // critical path): wait for it rather than read at once.
    const history = () => readHistory(join(dir, 'history.jsonl')).entries;
    await waitUntil('the failure is in the history', () =>
      history().some((line) => line.command === 'restart' && line.outcome === 'failed'),
    );
    const lines = history();
    expect(lines.map((line) => (line.command === 'restart' ? `${line.process} ${line.outcome} ${line.restarts}` : line.command))).toEqual([
      'flaky restarted 1',
      'flaky restarted 2',
      'flaky restarted 3',
      'flaky failed 3',
    ]);
    // Each restart waited at least its back-off (50, 100, 200 ms): a lower bound holds on a busy machine.
    const waits = lines.filter((line) => line.command === 'restart' && line.outcome === 'restarted').map((line) => line.durationMs);
    expect(waits.map((wait, index) => wait >= backoffMs(index + 1, 50, 200) - 5)).toEqual([true, true, true]);
  });

  it('SIGHUP: a process whose config changed is replaced, one that did not is left alone, one no longer planned is stopped, a new one is started', async () => {
    const forever = 'setInterval(() => undefined, 1000)';
    start([entry('keep', forever), entry('replace', forever), entry('remove', forever)]);
    await waitUntil('all three run', () => ['keep', 'replace', 'remove'].every((name) => pidOf(name) !== null));
    const before = { keep: pidOf('keep') as number, replace: pidOf('replace') as number, remove: pidOf('remove') as number };
    writePlan(planFile(), plan([entry('keep', forever), entry('replace', forever, 'two'), entry('relay', forever)]));
    supervisor.kill('SIGHUP');
    await waitUntil(
      'replaced, removed, added',
      () =>
        pidOf('replace') !== null &&
        pidOf('replace') !== before.replace &&
        pidOf('relay') !== null &&
        status()?.processes['remove'] === undefined,
    );
    await waitUntil('the removed one is gone', () => processControl.inspect(before.remove) === undefined);
    expect(pidOf('keep')).toBe(before.keep);
    expect(processControl.inspect(before.replace)).toBeUndefined();
    expect(status()?.processes['replace']).toMatchObject({
      config: 'two',
      restarts: 0,
      lastExit: { reason: 'stopped on purpose (killed by SIGTERM)' },
    });
    expect(readFileSync(join(dir, 'relay.pid'), 'utf8').trim()).toBe(String(pidOf('relay')));
  });

  it('SIGTERM: the supervisor exits and leaves its processes running (down stops them in its own order)', async () => {
    // A beat in its log every 20 ms: a beat written after the supervisor exited shows it outlived the supervisor.
    start([entry('steady', 'setInterval(() => console.log("beat"), 20)')]);
    await waitUntil('steady runs', () => pidOf('steady') !== null);
    const steady = pidOf('steady') as number;
    const log = join(dir, 'steady.log');
    const exited = new Promise((resolve) => supervisor.once('exit', resolve));
    supervisor.kill('SIGTERM');
    await exited;
    const beatsAtExit = readFileSync(log, 'utf8').length;
    await waitUntil('steady beats after the supervisor exited', () => readFileSync(log, 'utf8').length > beatsAtExit);
    expect(processControl.inspect(steady)).toBeDefined();
  });
});
