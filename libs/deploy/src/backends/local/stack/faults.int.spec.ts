import { ROUTE_MOVE_BOUND_MS } from '@mlbg/contract';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithBinary, findBinary } from '../../../testing/real-tools';
import { StackHarness, WORKSPACE_ROOT } from '../../../testing/stack-harness';
import { type LoadReport, failureKinds, keepAliveLoad, stopAllLoads } from '../../../testing/keepalive-load';
import { readHistory } from '../../../history/history';
import { processControl } from '../../../effects/real-deps';
import { readLink } from '../nginx/route-links';
import { readPlan, readSupervisorStatus } from '../supervisor/supervisor-files';
import { DEPLOYMENT_SPEC_PATH } from '../../../spec/deployment-spec';

/** Whether every thread of `pid` is in the stopped state (`T` in /proc/<pid>/task/<tid>/stat). */
function allThreadsStopped(pid: number): boolean {
  const tasks = join('/proc', String(pid), 'task');
  return readdirSync(tasks).every((tid) => {
    let stat: string;
    try {
      stat = readFileSync(join(tasks, tid, 'stat'), 'utf8');
    } catch {
      return true; // the thread ended between the listing and the read: it runs no more
    }
    // The state follows the command name in parentheses, which may itself hold spaces or parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
  });
}

/**
 * Faults of the local stack beyond a crash, with real processes under load (32 keep-alive
 * clients POSTing /predict through the real nginx, every answer counted): the deploy CLI killed
 * in the middle of a switch, a state folder that is full or read-only, and (on a stack of its own,
 * with short timeouts in its spec) a hung (SIGSTOP) live color.
 */
jest.setTimeout(180_000);
const NGINX = findBinary('nginx');
const CLIENTS = 32;
const PREDICT = JSON.stringify({ features: [[1], [2], [3]] });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Root can mount a small tmpfs for the state folder (full, then read-only); others can not. */
const CAN_MOUNT = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;

describeWithBinary(NGINX, 'nginx')('faults of the local stack (real nginx, real services, under load)', () => {
  let stack: StackHarness;
  let mounted = false;
  let readOnly = false;
  const entries = () => readHistory(stack.layout.historyFile).entries;
  const state = () => JSON.parse(readFileSync(stack.layout.stateFile, 'utf8')) as { routes: { live: Record<string, number> } };
  const liveInState = () => Object.entries(state().routes.live).find(([, weight]) => weight === 100)?.[0];
  const waitUntil = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000) => {
    const end = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
      await sleep(50);
    }
  };
  const startLoad = async () => {
    const load = keepAliveLoad({ port: stack.ports.router, clients: CLIENTS, path: '/predict', body: PREDICT, timeoutMs: 60_000 });
    await waitUntil('the load is flowing', () => load.count() > 200);
    return load;
  };

  /** The real CLI entry in its own process, paused by the test hook at `point`; resolves once it says it paused. */
  const pausedCli = async (point: string, ...argv: string[]) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'libs/deploy/src/cli/main.ts', ...argv], {
      cwd: WORKSPACE_ROOT,
      env: {
        ...process.env,
        NODE_ENV: '',
        SWC_NODE_PROJECT: 'libs/deploy/tsconfig.lib.json',
        BLUEGREEN_STATE_DIR: stack.stateDir,
        BLUEGREEN_TEST_PAUSE_AT: point,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitUntil(
      `the CLI pauses at ${point} (output so far: ${output})`,
      () => output.includes(`TEST HOOK BLUEGREEN_TEST_PAUSE_AT=${point}`) || child.exitCode !== null,
      60_000,
    );
    expect({ exited: child.exitCode, output }).toMatchObject({ exited: null });
    return Object.assign(child, { output: () => output });
  };
  const killCli = async (child: ReturnType<typeof spawn>) => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };

  /**
   * Fills the tmpfs: writes until the kernel says ENOSPC, in ever smaller files so not one page is
   * left (a few KiB left would let the next file write through, and the test would not be about a
   * full folder). Returns the folder of the filler files, to remove.
   */
  const fillStateFolder = () => {
    const filler = join(stack.stateDir, 'filler');
    mkdirSync(filler, { recursive: true });
    let index = 0;
    for (const size of [256 * 1024, 4096, 1]) {
      for (;;) {
        try {
          writeFileSync(join(filler, String((index += 1))), Buffer.alloc(size));
        } catch {
          break;
        }
      }
    }
    return filler;
  };
  const routesAgree = () => [readLink(stack.layout.liveLink), liveInState()];

  beforeAll(async () => {
    stack = await StackHarness.create('faults');
    if (CAN_MOUNT) {
      // A small tmpfs of its own under the state folder's path: the stack's files fit, then it is filled.
      mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', stack.stateDir]).status === 0;
    }
    expect((await stack.up()).code).toBe(0);
  });
  // A failed assertion skips a test's own stop: its clients must not go on against a stopped stack.
  afterEach(() => stopAllLoads());
  afterAll(async () => {
    if (!stack) return;
    if (!mounted) {
      expect(await stack.destroy()).toEqual([]);
      return;
    }
    if (readOnly) spawnSync('umount', [stack.stateDir]);
    stack.rememberPids();
    await stack.cli('down', '--timeout=5');
    const problems = await stack.leftovers();
    spawnSync('umount', [stack.stateDir]);
    rmSync(stack.stateDir, { recursive: true, force: true });
    expect(problems).toEqual([]);
  });

  it('the CLI killed (-9) between the preflight and the rename: nothing moved, the next command records that and works', async () => {
    const load = await startLoad();
    const cli = await pausedCli('before-flip', 'switch', '--color=green');
    expect(entries().at(-1)).toMatchObject({ command: 'switch-intent', from: 'blue', to: 'green' });
    await killCli(cli);
    expect([readLink(stack.layout.liveLink), liveInState(), (await stack.serving()).color]).toEqual(['blue', 'blue', 'blue']);
    expect((await stack.cli('status')).stdout).toContain('A switch blue -> green began at');

    const next = await stack.cli('switch', '--color=green');
    expect(next.code).toBe(0);
    expect(next.stdout).toContain('was interrupted before the route moved: blue stays live');
    const report = await load.stop();
    expect({ failed: report.failed.length, kinds: failureKinds(report) }).toEqual({ failed: 0, kinds: {} });
    expect(
      entries()
        .slice(-3)
        .map((entry) => [entry.command, entry.outcome]),
    ).toEqual([
      ['reconcile', 'not-flipped'],
      ['switch-intent', 'intended'],
      ['switch', 'switched'],
    ]);
    expect([readLink(stack.layout.liveLink), liveInState(), (await stack.serving()).color]).toEqual(['green', 'green', 'green']);
  });

  it('the CLI killed (-9) right after the rename: nginx serves the new color; the next command makes state and history agree with the links, and works', async () => {
    const load = await startLoad();
    const cli = await pausedCli('after-rename', 'switch', '--color=blue');
    await killCli(cli);
    // Killed between the rename and the state write: the link (what nginx follows) moved, the file did not.
    // Nobody waited out the kept connections to green (the killed switch would have): the bound does.
    await new Promise((resolve) => setTimeout(resolve, ROUTE_MOVE_BOUND_MS));
    expect([readLink(stack.layout.liveLink), liveInState(), (await stack.serving()).color]).toEqual(['blue', 'green', 'blue']);

    const next = await stack.cli('switch');
    expect(next.code).toBe(0);
    expect(next.stdout).toContain('was interrupted after the route moved: blue is live');
    expect(next.stdout).toContain('Switched live traffic blue -> green');
    const report = await load.stop();
    expect({ failed: report.failed.length, kinds: failureKinds(report) }).toEqual({ failed: 0, kinds: {} });
    expect(
      entries()
        .slice(-4)
        .map((entry) => [entry.command, entry.outcome]),
    ).toEqual([
      ['switch-intent', 'intended'],
      ['reconcile', 'flipped'],
      ['switch-intent', 'intended'],
      ['switch', 'switched'],
    ]);
    expect([readLink(stack.layout.liveLink), liveInState(), (await stack.serving()).color]).toEqual(['green', 'green', 'green']);
    const rollback = await stack.cli('rollback');
    expect(rollback.code).toBe(0);
    expect([readLink(stack.layout.liveLink), liveInState()]).toEqual(['blue', 'blue']);
  });

  (CAN_MOUNT ? it : it.skip)(
    'a full, then a read-only state folder (a 16 MB tmpfs, then a read-only bind mount of it): switch and release fail with a clear message and change nothing; live traffic is not affected',
    async () => {
      expect(mounted).toBe(true);
      const load = await startLoad();
      const before = {
        link: readLink(stack.layout.liveLink),
        state: readFileSync(stack.layout.stateFile, 'utf8'),
        history: readFileSync(stack.layout.historyFile, 'utf8'),
      };
      const unchanged = () => ({
        link: readLink(stack.layout.liveLink),
        state: readFileSync(stack.layout.stateFile, 'utf8'),
        history: readFileSync(stack.layout.historyFile, 'utf8'),
      });
      const filler = fillStateFolder();
      try {
        const full = await stack.cli('switch', '--color=green');
        expect(full.code).toBe(1);
        expect(full.stderr).toMatch(/The state folder can not be written|could not be recorded/);
        expect(full.stderr).toMatch(/ENOSPC|no space left/i);
        expect(full.stderr).toMatch(/nothing was (changed|moved)/);
        expect(unchanged()).toEqual(before);

        // Read-only from here on (a read-only bind mount over it: the processes' open logs keep working, as after a remount).
        expect(spawnSync('mount', ['--bind', stack.stateDir, stack.stateDir]).status).toBe(0);
        readOnly = true;
        expect(spawnSync('mount', ['-o', 'remount,bind,ro', stack.stateDir]).status).toBe(0);
        for (const argv of [
          ['switch', '--color=green'],
          ['release', '--model=models/v1.1.0/model.onnx'],
        ]) {
          const run = await stack.cli(...argv);
          expect(run.code).toBe(1);
          expect(run.stderr).toContain('The state folder can not be written');
          expect(run.stderr).toMatch(/EROFS|read-only/i);
          expect(run.stderr).toContain('nothing was changed');
          expect(unchanged()).toEqual(before);
        }
      } finally {
        if (readOnly) spawnSync('umount', [stack.stateDir]);
        readOnly = false;
        rmSync(filler, { recursive: true, force: true });
      }
      const report = await load.stop();
      expect({ failed: report.failed.length, kinds: failureKinds(report) }).toEqual({ failed: 0, kinds: {} });
      expect(report.seen.every((item) => item.color === 'blue')).toBe(true);
      // Writable again: the next command works.
      expect((await stack.cli('switch', '--color=green')).code).toBe(0);
      expect([readLink(stack.layout.liveLink), liveInState()]).toEqual(['green', 'green']);
    },
  );

  /** What happens to the state folder while a switch is paused after its intent; returns how to undo it. */
  const midSwitchFaults = [
    {
      name: 'fills up (ENOSPC)',
      errno: /ENOSPC|no space left/i,
      apply: () => {
        const filler = fillStateFolder();
        return () => rmSync(filler, { recursive: true, force: true });
      },
    },
    {
      name: 'turns read-only (EROFS)',
      errno: /EROFS|read-only/i,
      apply: () => {
        expect(spawnSync('mount', ['--bind', stack.stateDir, stack.stateDir]).status).toBe(0);
        readOnly = true;
        expect(spawnSync('mount', ['-o', 'remount,bind,ro', stack.stateDir]).status).toBe(0);
        return () => {
          spawnSync('umount', [stack.stateDir]);
          readOnly = false;
        };
      },
    },
  ];

  (CAN_MOUNT ? it.each(midSwitchFaults) : it.skip.each(midSwitchFaults))(
    'a state folder that $name after the switch recorded its intent: the switch moves nothing and fails with STATE_NOT_WRITABLE; state, links and history agree (or the next command settles them); no request fails',
    async (fault) => {
      expect(mounted).toBe(true);
      const from = liveInState() as 'blue' | 'green';
      const to = from === 'blue' ? 'green' : 'blue';
      const load = await startLoad();
      const before = { link: readLink(stack.layout.liveLink), state: readFileSync(stack.layout.stateFile, 'utf8') };
      const linesBefore = entries().length;
      const cli = await pausedCli('before-flip', 'switch', `--color=${to}`);
      expect(entries().at(-1)).toMatchObject({ command: 'switch-intent', from, to });
      const undo = fault.apply();
      let exitCode: number | null;
      try {
        const exited = new Promise<number | null>((resolve) => cli.once('close', resolve));
        cli.kill('SIGUSR2'); // the test hook lets the switch go on, into the broken folder
        exitCode = await exited;
        expect(routesAgree()).toEqual([from, from]);
      } finally {
        undo();
      }
      const output = cli.output();
      expect({ exitCode, output }).toMatchObject({ exitCode: 1, output: expect.stringContaining('The state folder can not be written') });
      expect(output).toMatch(fault.errno);
      expect(output).toContain('no route was moved');
      expect(output).not.toContain('Unexpected error');
      expect({ link: readLink(stack.layout.liveLink), state: readFileSync(stack.layout.stateFile, 'utf8') }).toEqual(before);
      // No half-written temp file left, no torn history line.
      expect(readdirSync(stack.stateDir).filter((name) => name.endsWith(`.${cli.pid}.tmp`))).toEqual([]);
      expect(readHistory(stack.layout.historyFile).skippedLines).toEqual([]);
      // The outcome line fits when the file system takes it (a full one: when the history file's last
      // page had room); else the intent stays open and the next command settles it.
      const recorded = entries()
        .slice(linesBefore)
        .map((entry) => [entry.command, entry.outcome]);
      process.stdout.write(
        `state folder ${fault.name} after the intent: exit ${exitCode}; history after it: ${JSON.stringify(recorded)}; ${output
          .split('\n')
          .filter((line) => line.includes('deploy switch'))
          .join(' ')}\n`,
      );
      expect([
        [
          ['switch-intent', 'intended'],
          ['switch', 'refused'],
        ],
        [['switch-intent', 'intended']],
      ]).toContainEqual(recorded);
      if (recorded.length === 2) expect(entries().at(-1)?.reason).toContain('no route was moved');

      // Writable again: the next command works (and settles the intent when its outcome was not written).
      const switchedAt = Date.now() - load.started;
      const next = await stack.cli('switch', `--color=${to}`);
      expect(next.code).toBe(0);
      if (recorded.length === 1) expect(next.stdout).toContain(`was interrupted before the route moved: ${from} stays live`);
      const report = await load.stop();
      expect({ failed: report.failed.length, kinds: failureKinds(report) }).toEqual({ failed: 0, kinds: {} });
      expect(report.seen.filter((item) => item.at < switchedAt).every((item) => item.color === from)).toBe(true);
      expect(
        entries()
          .slice(linesBefore)
          .map((entry) => [entry.command, entry.outcome]),
      ).toEqual([
        ...recorded,
        ...(recorded.length === 1 ? [['reconcile', 'not-flipped']] : []),
        ['switch-intent', 'intended'],
        ['switch', 'switched'],
      ]);
      expect(routesAgree()).toEqual([to, to]);
    },
  );
});

/**
 * A hung live color on a stack whose spec makes nginx's read timeout (2 s) shorter than the
 * supervisor's unready limit (6 s): clients see nginx's JSON 504 for every request sent while the
 * color hangs, until the supervisor's probe kills it; then 503s while it restarts; then 2xx from it.
 * One replica per color: with two, nginx passes a hung replica's requests on to its sibling.
 */
describeWithBinary(NGINX, 'nginx')('a hung live color (real nginx, real services, under load)', () => {
  const TIMEOUTS = { connectSeconds: 1, sendSeconds: 1, readSeconds: 2 };
  const UNREADY_LIMIT_MS = 6_000;
  const committed = JSON.parse(readFileSync(join(WORKSPACE_ROOT, DEPLOYMENT_SPEC_PATH), 'utf8')) as { proxy?: object; supervisor?: object };
  const spec = {
    ...committed,
    proxy: { ...committed.proxy, timeouts: TIMEOUTS },
    supervisor: { ...committed.supervisor, unreadyLimitMs: UNREADY_LIMIT_MS },
  };
  /** nginx arms its timers from a clock cached once per event-loop turn, so one may fire a few ms early as a client measures it. */
  const NGINX_CLOCK_SLACK_MS = 50;
  let stack: StackHarness;

  beforeAll(async () => {
    stack = await StackHarness.create('hung', { spec, replicas: 1 });
    expect((await stack.up()).code).toBe(0);
  });
  afterEach(() => stopAllLoads());
  afterAll(async () => {
    if (stack) expect(await stack.destroy()).toEqual([]);
  });

  it(`SIGSTOP of the live color: a JSON 504 after the ${TIMEOUTS.readSeconds} s read timeout for every request sent while it hangs, the supervisor kills it after ${UNREADY_LIMIT_MS} ms unready and restarts it, then 2xx from the same color`, async () => {
    const readMs = TIMEOUTS.readSeconds * 1000;
    // One attempt (proxy_next_upstream off): nginx answers within its connect + send + read timeouts.
    const attemptMs = (TIMEOUTS.connectSeconds + TIMEOUTS.sendSeconds + TIMEOUTS.readSeconds) * 1000;
    const { probeIntervalMs } = readPlan(stack.layout.supervisorPlanFile).policy;
    // `up` returned once the supervisor had seen blue ready: from then on its unready limit applies (not the start grace).
    expect(readSupervisorStatus(stack.layout.supervisorStatusFile)?.processes['blue']?.phase).toBe('ready');
    const hung = stack.pid('blue') as number;
    const load = keepAliveLoad({ port: stack.ports.router, clients: CLIENTS, path: '/predict', body: PREDICT, timeoutMs: 60_000 });
    while (load.count() < 200) await sleep(50);
    process.kill(hung, 'SIGSTOP');
    // kill() only queues the stop: each of the color's threads stops when the kernel next runs it, which
    // on a loaded machine is some milliseconds later (a request sent 1 ms after kill() got its 200). The
    // hang starts when /proc shows every thread stopped.
    const stopDeadline = Date.now() + 5_000;
    while (!allThreadsStopped(hung)) {
      if (Date.now() > stopDeadline) throw new Error(`pid ${hung} was not stopped within 5 s of SIGSTOP`);
      await sleep(1);
    }
    const stoppedAt = Date.now() - load.started;
    await waitFor(
      'the hung color is replaced',
      () => stack.pid('blue') !== undefined && stack.pid('blue') !== hung && processControl.inspect(hung) === undefined,
      UNREADY_LIMIT_MS + 30_000,
      () =>
        `supervisor status: ${JSON.stringify(readSupervisorStatus(stack.layout.supervisorStatusFile)?.processes['blue'])}; pid file: ${stack.pid('blue')}; hung pid ${hung}: ${JSON.stringify(processControl.inspect(hung)?.cmdline)}`,
    );
    await waitFor('the stack is healthy again', async () => (await stack.cli('status')).code === 0, 60_000);
    await sleep(1_000);
    const report: LoadReport = await load.stop();

    const blue = readSupervisorStatus(stack.layout.supervisorStatusFile)?.processes['blue'];
    expect(blue).toMatchObject({
      phase: 'ready',
      restarts: 1,
      lastExit: { reason: expect.stringMatching(/^unready for \d+\.\d s \(health probe \/health: .+\); killed by SIGKILL$/) },
    });
    const killedAt = Date.parse(blue?.lastExit?.at ?? '') - load.started;
    const readyAt = Date.parse(blue?.since ?? '') - load.started;
    const timeouts = report.seen.filter((item) => item.problem === 'UPSTREAM_TIMEOUT');
    process.stdout.write(
      `SIGSTOP of the live color: ${report.total} answers, ${report.failed.length} failed (${JSON.stringify(failureKinds(report))}); ` +
        `killed ${killedAt - stoppedAt} ms after the stop, ready ${readyAt - killedAt} ms after the kill; 504s waited ${Math.min(...timeouts.map((item) => item.at - item.sent))}-${Math.max(...timeouts.map((item) => item.at - item.sent))} ms\n`,
    );

    // The supervisor waited out its limit from the last good probe (at most one interval before the stop).
    expect(killedAt - stoppedAt).toBeGreaterThanOrEqual(UNREADY_LIMIT_MS - probeIntervalMs);
    // Every failure is one of the router's JSON errors, never a hung or dropped client.
    expect(Object.keys(failureKinds(report)).filter((kind) => !['LIVE_UNAVAILABLE', 'UPSTREAM_TIMEOUT'].includes(kind))).toEqual([]);
    // Each request sent while the color hung, early enough for its read timeout to end before the kill, got the JSON 504...
    const hungWindow = report.seen.filter((item) => item.sent >= stoppedAt && item.sent + readMs + NGINX_CLOCK_SLACK_MS < killedAt);
    expect(hungWindow.length).toBeGreaterThanOrEqual(CLIENTS);
    expect(hungWindow.filter((item) => item.problem !== 'UPSTREAM_TIMEOUT')).toEqual([]);
    // ... after the read timeout, and within one attempt's timeouts.
    for (const item of timeouts) {
      expect(item.at - item.sent).toBeGreaterThanOrEqual(readMs - NGINX_CLOCK_SLACK_MS);
      expect(item.at - item.sent).toBeLessThanOrEqual(attemptMs);
    }
    // Once it was killed, nothing timed out any more: what failed was the restart's 503s.
    expect(report.failed.filter((item) => item.sent > killedAt && item.problem !== 'LIVE_UNAVAILABLE')).toEqual([]);
    // Then the same color, restarted, answers everything.
    expect(readyAt).toBeGreaterThan(killedAt);
    const after = report.seen.filter((item) => item.at > (report.lastFailureAt ?? stoppedAt));
    expect(report.lastFailureAt).toBeGreaterThan(killedAt);
    expect(after.length).toBeGreaterThan(100);
    expect(after.every((item) => item.status === 200 && item.color === 'blue')).toBe(true);
    expect(
      readHistory(stack.layout.historyFile)
        .entries.filter((entry) => entry.command === 'restart')
        .at(-1),
    ).toMatchObject({ process: 'blue', outcome: 'restarted', exit: expect.stringContaining('unready for') });
  });
});

async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  facts: () => string = () => '',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what} ${facts()}`);
    await sleep(50);
  }
}
