import { execFile } from 'node:child_process';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeWithBinary, findBinary } from '../../testing/real-tools';
import { StackHarness, WORKSPACE_ROOT } from '../../testing/stack-harness';
import { moves, readHistory } from '../../history/history';
import { processControl } from '../../effects/real-deps';

/**
 * The local stack for real: two built model services, the real nginx, real sockets and symlinks.
 * One stack for the whole file (started once, to keep the run short); the scenarios run in order
 * and each leaves the stack as the next one expects.
 */
jest.setTimeout(60_000);
const NGINX = findBinary('nginx');
const PREDICT = { features: [[1], [2], [3]] };
const FIXTURE = 'models/fixtures/three-features/model.onnx';
const execFileAsync = promisify(execFile);

describeWithBinary(NGINX, 'nginx')('the local stack (real nginx, real services)', () => {
  let stack: StackHarness;
  /** The switches and rollbacks in the history (up, down and release are there too: see their own test). */
  const history = () => moves(readHistory(stack.layout.historyFile).entries, 'local');

  beforeAll(async () => {
    stack = await StackHarness.create('stack');
  });
  afterAll(async () => {
    if (stack) expect(await stack.destroy()).toEqual([]);
  });

  it('up: starts both colors and nginx, waits until healthy, and prints the URLs', async () => {
    const up = await stack.up();
    expect(up).toMatchObject({ code: 0, stderr: '' });
    expect(up.stdout).toContain('The stack is up in');
    expect(up.stdout).toContain(`http://127.0.0.1:${stack.ports.router}/preview/`);
    expect(up.stdout).toMatch(
      new RegExp(`blue +http://127\\.0\\.0\\.1:${stack.ports.blue} +pid \\d+, 2 replicas \\(\\+ blue-2 pid \\d+\\), v1\\.0\\.0`),
    );
    expect(await stack.serving()).toEqual({ status: 200, color: 'blue', version: 'v1.0.0' });
    expect(await stack.serving('/preview/health')).toEqual({ status: 200, color: 'green', version: 'v1.1.0' });
    const predict = await stack.request('POST', '/predict', PREDICT);
    expect(predict.status).toBe(200);
    expect(JSON.parse(predict.body)).toMatchObject({
      predictions: [expect.any(Number), expect.any(Number), expect.any(Number)],
      model_version: 'v1.0.0',
    });
    expect((await stack.request('GET', '/health', undefined, stack.ports.green)).headers['x-color']).toBe('green');
  });

  it('up again: says the stack is already up and changes nothing', async () => {
    const pids = [stack.pid('nginx'), stack.pid('blue'), stack.pid('green')];
    const again = await stack.up();
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('The stack is already up; nothing was changed');
    expect([stack.pid('nginx'), stack.pid('blue'), stack.pid('green')]).toEqual(pids);
  });

  it('status: text and --json, including what nginx serves right now', async () => {
    const text = await stack.cli('status');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Stack: running, healthy');
    expect(text.stdout).toContain('serving now: blue v1.0.0');
    expect(text.stdout).toContain('Last switch: none yet');
    const json = await stack.cli('status', '--json');
    expect(json.json()).toMatchObject({
      ok: true,
      command: 'status',
      result: {
        stack: 'running',
        healthy: true,
        live: 'blue',
        preview: 'green',
        router: { port: stack.ports.router, pid: stack.pid('nginx'), serving: { ok: true, color: 'blue', version: 'v1.0.0' } },
        colors: {
          blue: { role: 'live', pid: stack.pid('blue'), port: stack.ports.blue, health: { ok: true, version: 'v1.0.0', featureCount: 1 } },
          green: { role: 'preview', process: 'running', health: { ok: true, version: 'v1.1.0' } },
        },
      },
    });
  });

  it('switch --color=green: preflight, flip, verified through nginx, in the history; again is a no-op', async () => {
    const switched = await stack.cli('switch', '--color=green');
    expect(switched.code).toBe(0);
    expect(switched.stdout).toContain('Switched live traffic blue -> green (v1.0.0 -> v1.1.0).');
    expect(await stack.serving()).toEqual({ status: 200, color: 'green', version: 'v1.1.0' });
    expect(await stack.serving('/preview/health')).toMatchObject({ color: 'blue' });
    expect(history().at(-1)).toMatchObject({
      from: 'blue',
      to: 'green',
      fromVersion: 'v1.0.0',
      toVersion: 'v1.1.0',
      outcome: 'switched',
      command: 'switch',
    });

    const again = await stack.cli('switch', '--color=green');
    expect(again).toMatchObject({ code: 0, stdout: 'green is already live (v1.1.0); nothing to do.\n' });
    expect(history()).toHaveLength(1);
  });

  it('switch without a color toggles; rollback returns to the previous color', async () => {
    expect((await stack.cli('switch')).code).toBe(0);
    expect(await stack.serving()).toMatchObject({ color: 'blue', version: 'v1.0.0' });
    const rollback = await stack.cli('rollback');
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toContain('Rolled back live traffic blue -> green (v1.0.0 -> v1.1.0).');
    expect(await stack.serving()).toMatchObject({ color: 'green', version: 'v1.1.0' });
    expect(history().at(-1)).toMatchObject({ command: 'rollback', to: 'green' });
  });

  it('release refuses the live color; release to the idle color puts it on /preview/ only, and a different input signature is refused by switch', async () => {
    const live = await stack.cli('release', `--model=${FIXTURE}`, '--color=green');
    expect(live.code).toBe(1);
    expect(live.stderr).toContain('Refusing to release to the live color');

    const release = await stack.cli('release', `--model=${FIXTURE}`);
    expect(release.code).toBe(0);
    expect(release.stdout).toMatch(
      /Released models\/fixtures\/three-features\/model\.onnx to blue: it runs sha256-[0-9a-f]{12} \(3 feature\(s\)\)/,
    );
    expect(release.stdout).toContain('deploy:switch will refuse');
    expect(await stack.serving('/preview/health')).toMatchObject({
      status: 200,
      color: 'blue',
      version: expect.stringMatching(/^sha256-/),
    });
    expect(await stack.serving()).toMatchObject({ color: 'green', version: 'v1.1.0' });

    const refused = await stack.cli('switch', '--color=blue', '--json');
    expect(refused.code).toBe(1);
    expect(refused.json()).toMatchObject({
      ok: false,
      error: { code: 'PREFLIGHT_FAILED', message: expect.stringContaining('input signature differs: blue') },
      result: { kind: 'refused' },
    });
    expect(await stack.serving()).toMatchObject({ color: 'green', version: 'v1.1.0' });
    expect(history().at(-1)).toMatchObject({ outcome: 'refused', to: 'blue', reason: expect.stringContaining('input signature differs') });
  });

  it('release then switch: the new model is not live until the switch', async () => {
    expect((await stack.cli('release', '--model=models/v1.0.0/model.onnx')).code).toBe(0);
    expect(await stack.serving('/preview/health')).toMatchObject({ color: 'blue', version: 'v1.0.0' });
    expect(await stack.serving()).toMatchObject({ color: 'green', version: 'v1.1.0' });
    expect((await stack.cli('switch', '--color=blue')).code).toBe(0);
    expect(await stack.serving()).toMatchObject({ color: 'blue', version: 'v1.0.0' });
    const state = JSON.parse(readFileSync(stack.layout.stateFile, 'utf8')) as { routes: unknown; models: Record<string, string> };
    expect(state).toMatchObject({
      schemaVersion: 2,
      routes: { live: { blue: 100, green: 0 }, preview: { blue: 0, green: 100 } },
      models: { blue: 'models/v1.0.0/model.onnx' },
    });
  });

  it('switch is refused when the target was killed, and live traffic is not affected', async () => {
    // Without its supervisor, nothing restarts it (supervisor.int.spec.ts shows the restart).
    const supervisor = stack.pid('supervisor') as number;
    process.kill(supervisor, 'SIGKILL');
    while (processControl.inspect(supervisor)) await new Promise((resolve) => setTimeout(resolve, 20));
    // Every replica of it (one replica down is answered by its sibling: replicas.int.spec.ts).
    for (const green of stack.replicaPids('green')) {
      process.kill(green, 'SIGKILL');
      while (processControl.inspect(green)) await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const refused = await stack.cli('switch', '--color=green');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('traffic was NOT switched');
    expect(refused.stderr).toMatch(/green \/health \(check 1 of 3\) no answer/);
    expect(await stack.serving()).toMatchObject({ status: 200, color: 'blue', version: 'v1.0.0' });
    expect((await stack.request('POST', '/predict', PREDICT)).status).toBe(200);
    expect((await stack.serving('/preview/health')).status).toBe(503);
    expect((await stack.cli('status')).code).toBe(1);

    // `up` on the partly running stack starts only what is missing: a new supervisor, and green.
    const up = await stack.up();
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/green: pid \d+ has exited; started again as pid \d+\./);
    expect(await stack.serving('/preview/health')).toMatchObject({ color: 'green', version: 'v1.1.0' });
  });

  it('two switches at once: one wins, the other is refused; nginx and the history agree', async () => {
    const before = history().length;
    const [first, second] = await Promise.all([stack.cli('switch', '--color=green'), stack.cli('switch', '--color=green')]);
    expect([first.code, second.code].sort()).toEqual([0, 1]);
    const loser = first.code === 1 ? first : second;
    expect(loser.stderr).toContain(
      'Another deploy command (switch, rollback, release, up or down) is running on this stack right now; nothing was changed.',
    );
    expect(loser.stderr).toMatch(/`switch --color=green` \(pid \d+, user .+\) holds it since/);
    expect(await stack.serving()).toMatchObject({ color: 'green', version: 'v1.1.0' });
    expect(history().slice(before)).toEqual([expect.objectContaining({ to: 'green', outcome: 'switched' })]);
  });

  it('a corrupt or missing state file: a clear message, exit 1, nothing changed', async () => {
    const saved = readFileSync(stack.layout.stateFile, 'utf8');
    try {
      writeFileSync(stack.layout.stateFile, '{"schemaVersion": 1, "live": "gre');
      for (const command of [['switch'], ['status'], ['release', '--model=models/v1.0.0/model.onnx']]) {
        const run = await stack.cli(...command);
        expect(run.code).toBe(1);
        expect(run.stderr).toContain('The state file can not be read.');
        expect(run.stderr).toContain('Run `npx nx run deploy:down`');
      }
      renameSync(stack.layout.stateFile, `${stack.layout.stateFile}.away`);
      const missing = await stack.cli('switch', '--color=blue');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('The local stack is not running. There is no state file at');
      expect(await stack.serving()).toMatchObject({ status: 200, color: 'green' });
    } finally {
      rmSync(`${stack.layout.stateFile}.away`, { force: true });
      writeFileSync(stack.layout.stateFile, saved);
    }
    expect((await stack.cli('status')).code).toBe(0);
  });

  it('the real CLI entry: --json on stdout, exit 2 for bad usage', async () => {
    const cli = (...args: string[]) =>
      execFileAsync(process.execPath, ['-r', '@swc-node/register', 'libs/deploy/src/cli/main.ts', ...args], {
        cwd: WORKSPACE_ROOT,
        env: { ...process.env, SWC_NODE_PROJECT: 'libs/deploy/tsconfig.lib.json', BLUEGREEN_STATE_DIR: stack.stateDir },
      }).then(
        (done) => ({ code: 0, stdout: done.stdout, stderr: done.stderr }),
        (failed: { code: number; stdout: string; stderr: string }) => failed,
      );
    const status = await cli('status', '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ ok: true, result: { live: 'green', healthy: true } });
    const bad = await cli('switch', '--color=purple');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown color "purple"');
  });

  it('every action is in the history: up, release, switches, refusals, each with its gate results', async () => {
    const all = readHistory(stack.layout.historyFile).entries;
    expect(all[0]).toMatchObject({
      schemaVersion: 2,
      command: 'up',
      outcome: 'started',
      live: 'blue',
      colors: { blue: { version: 'v1.0.0' }, green: { version: 'v1.1.0' } },
    });
    expect(all.find((entry) => entry.command === 'release' && entry.outcome === 'refused')).toMatchObject({
      color: 'green',
      reason: expect.stringContaining('Refusing to release to the live color'),
    });
    expect(all.find((entry) => entry.command === 'release' && entry.outcome === 'released')).toMatchObject({
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      version: expect.any(String),
    });
    const refused = history().find((entry) => entry.outcome === 'refused');
    expect(refused?.gates.map((gate) => [gate.name, gate.ok])).toEqual(expect.arrayContaining([['signature', false]]));
    expect(
      history()
        .find((entry) => entry.outcome === 'switched')
        ?.gates.map((gate) => gate.name),
    ).toEqual(['health-streak', 'predict', 'signature', 'replicas', 'router-serves-target']);
  });

  it('down: stops everything up and release started, frees the ports and sockets; again is a no-op', async () => {
    const down = await stack.cli('down');
    expect(down.code).toBe(0);
    expect(down.stdout).toContain('The stack is down.');
    expect(down.stdout).toMatch(/nginx +pid \d+: stopped/);
    expect(await stack.leftovers()).toEqual([]);
    expect(stack.seenPids.size).toBeGreaterThanOrEqual(6);

    expect(await stack.cli('down')).toMatchObject({ code: 0, stdout: expect.stringContaining('Nothing was running') });
    const switched = await stack.cli('switch');
    expect(switched.code).toBe(1);
    expect(switched.stderr).toContain('records a stack that was stopped with `down`');
    expect((await stack.cli('status')).stdout).toContain('Stack: stopped');
  });
});

describeWithBinary(NGINX, 'nginx')('up that can not start', () => {
  let stack: StackHarness;
  beforeAll(async () => {
    stack = await StackHarness.create('broken');
  });
  afterAll(async () => {
    if (stack) expect(await stack.destroy()).toEqual([]);
  });

  it("stops what it started and says why, with the failing service's last log lines", async () => {
    const bogus = join(stack.stateDir, 'not-a-model.onnx');
    writeFileSync(bogus, 'this is not an ONNX file');
    const up = await stack.up(`--green-model=${bogus}`);
    expect(up.code).toBe(1);
    expect(up.stderr).toContain('The stack did not become healthy; everything this command started was stopped again.');
    // Both replicas of green fail; whichever exits first is named, with its log.
    const failed = /(green(?:-2)?) \(pid \d+\) exited while starting/.exec(up.stderr);
    expect(failed).not.toBeNull();
    expect(up.stderr).toContain(`Last lines of ${stack.layout.logFile(failed?.[1] as 'green')}:`);
    expect(up.stderr).toMatch(/\| model-service: /);
    const started = /Started (.*) under the supervisor/.exec(up.stdout)?.[1] ?? '';
    const pids = [...started.matchAll(/(nginx|blue|blue-2|green|green-2) \(pid (\d+)\)/g)].map(
      (match) => [match[1], Number(match[2])] as const,
    );
    expect(pids.map(([name]) => name)).toEqual(['nginx', 'blue', 'blue-2', 'green', 'green-2']);
    for (const [, pid] of pids) stack.seenPids.add(pid);
    expect(await stack.leftovers()).toEqual([]);
  });

  it('says which port is taken before starting anything', async () => {
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(stack.ports.blue, '127.0.0.1', resolve));
    try {
      const up = await stack.up();
      expect(up.code).toBe(1);
      expect(up.stderr).toContain(`blue's port ${stack.ports.blue} is already in use by another program.`);
      expect(up.stderr).toContain('--blue-port');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
