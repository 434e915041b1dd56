import { ROUTE_MOVE_BOUND_MS } from '@mlbg/contract';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithBinary, findBinary } from '../../testing/real-tools';
import { StackHarness, WORKSPACE_ROOT } from '../../testing/stack-harness';
import { type LoadReport, failureKinds, keepAliveLoad, stopAllLoads } from '../../testing/keepalive-load';
import { readHistory } from '../../history/history';
import { processControl } from '../../effects/real-deps';
import { readLink } from './route-links';
import { readSupervisorStatus } from './supervisor-files';
import { DEFAULT_SUPERVISOR } from '../../spec/deployment-spec';
import { PROXY_READ_TIMEOUT } from '../../render/nginx/nginx';

/**
 * Faults of the local stack beyond a crash, with real processes under load (32 keep-alive
 * clients POSTing /predict through the real nginx, every answer counted): the deploy CLI killed
 * in the middle of a switch, a hung (SIGSTOP) live color, a state folder that is full or read-only.
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
      env: { ...process.env, NODE_ENV: '', SWC_NODE_PROJECT: 'libs/deploy/tsconfig.lib.json', BLUEGREEN_STATE_DIR: stack.stateDir, BLUEGREEN_TEST_PAUSE_AT: point },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitUntil(`the CLI pauses at ${point} (output so far: ${output})`, () => output.includes(`TEST HOOK BLUEGREEN_TEST_PAUSE_AT=${point}`) || child.exitCode !== null, 60_000);
    expect({ exited: child.exitCode, output }).toMatchObject({ exited: null });
    return child;
  };
  const killCli = async (child: ReturnType<typeof spawn>) => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };

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
    expect([readLink(stack.layout.liveSocket), liveInState(), (await stack.serving()).color]).toEqual(['blue', 'blue', 'blue']);
    expect((await stack.cli('status')).stdout).toContain('A switch blue -> green began at');

    const next = await stack.cli('switch', '--color=green');
    expect(next.code).toBe(0);
    expect(next.stdout).toContain('was interrupted before the route moved: blue stays live');
    const report = await load.stop();
    expect({ failed: report.failed.length, kinds: failureKinds(report) }).toEqual({ failed: 0, kinds: {} });
    expect(entries().slice(-3).map((entry) => [entry.command, entry.outcome])).toEqual([
      ['reconcile', 'not-flipped'],
      ['switch-intent', 'intended'],
      ['switch', 'switched'],
    ]);
    expect([readLink(stack.layout.liveSocket), liveInState(), (await stack.serving()).color]).toEqual(['green', 'green', 'green']);
  });

  it('the CLI killed (-9) right after the rename: nginx serves the new color; the next command makes state and history agree with the links, and works', async () => {
    const load = await startLoad();
    const cli = await pausedCli('after-rename', 'switch', '--color=blue');
    await killCli(cli);
    // Killed between the rename and the state write: the link (what nginx follows) moved, the file did not.
    // Nobody waited out the kept connections to green (the killed switch would have): the bound does.
    await new Promise((resolve) => setTimeout(resolve, ROUTE_MOVE_BOUND_MS));
    expect([readLink(stack.layout.liveSocket), liveInState(), (await stack.serving()).color]).toEqual(['blue', 'green', 'blue']);

    const next = await stack.cli('switch');
    expect(next.code).toBe(0);
    expect(next.stdout).toContain('was interrupted after the route moved: blue is live');
    expect(next.stdout).toContain('Switched live traffic blue -> green');
    const report = await load.stop();
    expect({ failed: report.failed.length, kinds: failureKinds(report) }).toEqual({ failed: 0, kinds: {} });
    expect(entries().slice(-4).map((entry) => [entry.command, entry.outcome])).toEqual([
      ['switch-intent', 'intended'],
      ['reconcile', 'flipped'],
      ['switch-intent', 'intended'],
      ['switch', 'switched'],
    ]);
    expect([readLink(stack.layout.liveSocket), liveInState(), (await stack.serving()).color]).toEqual(['green', 'green', 'green']);
    const rollback = await stack.cli('rollback');
    expect(rollback.code).toBe(0);
    expect([readLink(stack.layout.liveSocket), liveInState()]).toEqual(['blue', 'blue']);
  });

  it(`a hung live color (SIGSTOP): every client gets an answer within nginx's ${PROXY_READ_TIMEOUT} (JSON when not 2xx); the supervisor's probe restarts it after ${DEFAULT_SUPERVISOR.unreadyLimitMs} ms unready`, async () => {
    const hung = stack.pid('blue') as number;
    const load = await startLoad();
    const stoppedAt = Date.now() - load.started;
    process.kill(hung, 'SIGSTOP');
    await waitUntil('the hung color is replaced', () => stack.pid('blue') !== undefined && stack.pid('blue') !== hung && processControl.inspect(hung) === undefined, DEFAULT_SUPERVISOR.unreadyLimitMs + 20_000);
    await waitUntil('the stack is healthy again', async () => (await stack.cli('status')).code === 0);
    await sleep(1_000);
    const report: LoadReport = await load.stop();
    const readTimeoutMs = Number.parseInt(PROXY_READ_TIMEOUT, 10) * 1000;
    process.stdout.write(`SIGSTOP of the live color: ${report.total} answers, ${report.failed.length} failed (${JSON.stringify(failureKinds(report))}), window ${report.windowMs} ms\n`);
    // Every failure is one of the router's JSON errors, never a hung or dropped client.
    expect(Object.keys(failureKinds(report)).filter((kind) => !['LIVE_UNAVAILABLE', 'UPSTREAM_TIMEOUT'].includes(kind))).toEqual([]);
    expect(report.failed.every((item) => item.at >= stoppedAt && item.at - stoppedAt <= readTimeoutMs + DEFAULT_SUPERVISOR.unreadyLimitMs)).toBe(true);
    const after = report.seen.filter((item) => item.at > (report.lastFailureAt ?? stoppedAt));
    expect(after.length).toBeGreaterThan(100);
    expect(after.every((item) => item.status === 200 && item.color === 'blue')).toBe(true);
    const blue = readSupervisorStatus(stack.layout.supervisorStatusFile)?.processes['blue'];
    expect(blue?.lastExit?.reason).toMatch(/^unready for \d+\.\d s \(health probe \/health: .+\); killed by SIGKILL$/);
    expect(entries().filter((entry) => entry.command === 'restart').at(-1)).toMatchObject({ process: 'blue', outcome: 'restarted', exit: expect.stringContaining('unready for') });
  });

  (CAN_MOUNT ? it : it.skip)('a full, then a read-only state folder (a 16 MB tmpfs, then a read-only bind mount of it): switch and release fail with a clear message and change nothing; live traffic is not affected', async () => {
    expect(mounted).toBe(true);
    const load = await startLoad();
    const before = { link: readLink(stack.layout.liveSocket), state: readFileSync(stack.layout.stateFile, 'utf8'), history: readFileSync(stack.layout.historyFile, 'utf8') };
    const unchanged = () => ({ link: readLink(stack.layout.liveSocket), state: readFileSync(stack.layout.stateFile, 'utf8'), history: readFileSync(stack.layout.historyFile, 'utf8') });
    const filler = join(stack.stateDir, 'filler');
    mkdirSync(filler, { recursive: true });
    // Fill it: write until the kernel says ENOSPC, in ever smaller files so not one page is left
    // (a few KiB left would let the lock's note or the intent line through, and the test would not
    // be about a full folder).
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
      for (const argv of [['switch', '--color=green'], ['release', '--model=models/v1.1.0/model.onnx']]) {
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
    expect([readLink(stack.layout.liveSocket), liveInState()]).toEqual(['green', 'green']);
  });
});
