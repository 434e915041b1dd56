import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lock } from 'proper-lockfile';
import { DeployError } from '../errors';
import { type StackLayout, stackLayout } from '../backends/local/layout';
import { fileLock, withStackLock } from './lock';

describe('withStackLock', () => {
  let dir: string;
  let layout: StackLayout;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'deploy-lock-'));
    layout = stackLayout(dir, join(dir, 'state'), dir);
    mkdirSync(layout.stateDir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('names the holder even when refused in the moment between its lock and its note of who it is', async () => {
    // The holder as another process sees it right after it took the lock: no note yet.
    const release = await lock(layout.stateDir, { lockfilePath: layout.lockDir, realpath: false });
    const since = new Date().toISOString();
    setTimeout(
      () => writeFileSync(layout.lockInfoFile, JSON.stringify({ command: 'switch --color=green', pid: process.pid, user: 'ann', since })),
      150,
    );
    const refused = await withStackLock(layout, { command: 'switch --color=green', user: 'bob' }, async () => 'ran').catch(
      (error: unknown) => error,
    );
    await release();
    expect(refused).toBeInstanceOf(DeployError);
    expect((refused as DeployError).code).toBe('LOCKED');
    expect((refused as DeployError).message).toContain(`\`switch --color=green\` (pid ${process.pid}, user ann) holds it since ${since}.`);
  });

  it('runs the action once the lock is free, and frees it after', async () => {
    expect(await withStackLock(layout, { command: 'status', user: 'bob' }, async () => 'first')).toBe('first');
    expect(await withStackLock(layout, { command: 'status', user: 'bob' }, async () => 'second')).toBe('second');
  });

  /** A pid nobody in this PID namespace has (pid_max is at most 2^22). */
  const NO_SUCH_PID = 4_194_304 + 7;
  const ownNamespace = () => readlinkSync('/proc/self/ns/pid');
  /** A live holder's lock (proper-lockfile keeps it fresh) with the note `note` beside it. */
  async function heldWith(note: Record<string, unknown>) {
    // Its lock may be taken over by the test (then it is compromised, which is expected here).
    const release = await lock(layout.stateDir, {
      lockfilePath: layout.lockDir,
      realpath: false,
      stale: 10_000,
      onCompromised: () => undefined,
    });
    writeFileSync(
      layout.lockInfoFile,
      JSON.stringify({ command: 'release --switch', user: 'cd', since: new Date().toISOString(), ...note }),
    );
    return release;
  }

  it("never takes over a live holder's lock from another PID namespace (a CLI in a container), whose pid it can not see", async () => {
    const release = await heldWith({ pid: NO_SUCH_PID, host: 'a1b2c3d4e5f6', pidNamespace: 'pid:[4026532999]' });
    const ran: string[] = [];
    const refused = await withStackLock(layout, { command: 'switch', user: 'bob' }, async () => void ran.push('switch')).catch(
      (error: unknown) => error,
    );
    await release();
    expect(refused).toMatchObject({ code: 'LOCKED', message: expect.stringContaining(`(pid ${NO_SUCH_PID}, user cd`) });
    expect(ran).toEqual([]);
  });

  it('takes over at once the lock of a dead holder in its own PID namespace on this host (kill -9), as before', async () => {
    const release = await heldWith({ pid: NO_SUCH_PID, host: hostname(), pidNamespace: ownNamespace() });
    expect(await withStackLock(layout, { command: 'switch', user: 'bob' }, async () => 'took it over')).toBe('took it over');
    await release().catch(() => undefined);
  });

  it('writes where it runs into its note: host and PID namespace', async () => {
    const lockOf = fileLock(layout);
    const note = await lockOf.hold({ command: 'switch', user: 'bob' }, async () => JSON.parse(readFileSync(layout.lockInfoFile, 'utf8')));
    expect(note).toMatchObject({ command: 'switch', pid: process.pid, user: 'bob', host: hostname(), pidNamespace: ownNamespace() });
  });

  it('a lock compromised while held (taken away, not refreshable) stops the command before its next change: LOCKED', async () => {
    const lockOf = fileLock(layout, { staleMs: 2_000 });
    const error = await lockOf
      .hold({ command: 'switch', user: 'bob' }, async () => {
        lockOf.assertHeld?.();
        // Someone removes the lock folder: the holder's next refresh (every staleMs / 2) finds it gone.
        rmSync(layout.lockDir, { recursive: true, force: true });
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        lockOf.assertHeld?.();
        return 'went on';
      })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'LOCKED', message: expect.stringContaining('lost its lock') });
  });

  it("never hands out a signal for a pid another process has taken since (a reused pid): it is not the lock's holder", async () => {
    // The note names a holder that died; its pid now belongs to an unrelated process (here a sleep).
    const unrelated = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const release = await heldWith({
        pid: unrelated.pid,
        host: hostname(),
        pidNamespace: ownNamespace(),
        startTicks: '1',
        script: '/old/cli/main.js',
      });
      const holder = fileLock(layout).holder?.();
      await release();
      expect(holder).toBeUndefined();
      expect(unrelated.exitCode).toBeNull();
      expect(unrelated.signalCode).toBeNull();
    } finally {
      unrelated.kill('SIGKILL');
    }
  });

  it("hands out the holder's signal while the pid is still that process: a real holder gets it", async () => {
    // Another process holds the lock, as a running `deploy canary` would.
    const holderScript = `require(${JSON.stringify(join(__dirname, 'lock.ts'))}).fileLock(${JSON.stringify(layout)}).hold({ command: 'canary', user: 'ann' }, () => new Promise(() => setInterval(() => undefined, 1000)));`;
    const holderProcess = spawn(process.execPath, ['-r', '@swc-node/register', '-e', holderScript], {
      cwd: join(__dirname, '../../../..'),
      env: { ...process.env, SWC_NODE_PROJECT: join(__dirname, '../../tsconfig.lib.json') },
      stdio: 'ignore',
    });
    try {
      let holder = fileLock(layout).holder?.();
      for (let waited = 0; !holder && waited < 20_000; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        holder = fileLock(layout).holder?.();
      }
      expect(holder).toMatchObject({ command: 'canary', pid: holderProcess.pid });
      const exited = new Promise((resolve) => holderProcess.once('exit', (_code, signal) => resolve(signal)));
      expect(holder?.signal('SIGTERM')).toBe(true);
      expect(await exited).toBe('SIGTERM');
    } finally {
      holderProcess.kill('SIGKILL');
    }
  }, 30_000);
});
