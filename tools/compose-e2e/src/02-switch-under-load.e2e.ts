import type { CommandOutput } from '@mlbg/contract';
import { composeSwitchDeadlineMs, loadDeploymentSpec } from '@mlbg/deploy/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKSPACE_ROOT, deployCli, exec } from './support/exec';
import { serving } from './support/http';
import { startLoad, type LoadReport } from './support/load';
import { recordTiming } from './support/timings';

/**
 * The deploy CLI's Compose backend (probes through `docker exec` into each replica, the flip inside the nginx
 * container) while 32 keep-alive clients send the seed's POST /predict through nginx on port 80.
 */
describe('switch, toggle and rollback through the deploy CLI (Compose backend) under load', () => {
  let stateDir: string;
  let load: { stop(): Promise<LoadReport> } | undefined;
  /**
   * A switch is about fifteen engine commands (about 20 s here when the suite runs alone): the limit
   * is the one the tool sets itself, each command's deadline and the waits of the check through
   * nginx, so a machine busy with other tasks does not fail a switch the tool still allows.
   */
  const SWITCH_TIMEOUT_MS = composeSwitchDeadlineMs(loadDeploymentSpec(join(WORKSPACE_ROOT, 'deploy/deployment.json')));

  beforeAll(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'compose-e2e-history-'));
  });
  afterAll(async () => {
    await load?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const cli = async (...args: string[]) => {
    const result = await deployCli([...args, '--target=compose', '--json', `--state-dir=${stateDir}`], { timeoutMs: SWITCH_TIMEOUT_MS });
    expect({ args, status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ args, status: 0, stderr: '' });
    // switch and rollback print the same envelope (the contract's).
    return JSON.parse(result.stdout) as CommandOutput<'switch'>;
  };

  it(
    'moves live traffic blue -> green -> blue -> green and loses no request',
    async () => {
      const started = Date.now();
      expect(await serving(80)).toMatchObject({ status: 200, color: 'blue', version: 'v1.0.0' });
      load = startLoad(80, 32);

      const toGreen = await cli('switch', '--color=green');
      expect(toGreen.result).toMatchObject({ kind: 'switched', from: 'blue', to: 'green', toVersion: 'v1.1.0' });
      expect(await serving(80)).toMatchObject({ color: 'green', version: 'v1.1.0' });

      const toggle = await cli('switch');
      expect(toggle.result).toMatchObject({ kind: 'switched', from: 'green', to: 'blue' });
      expect(await serving(80)).toMatchObject({ color: 'blue', version: 'v1.0.0' });

      const rollback = await cli('rollback');
      expect(rollback.result).toMatchObject({ from: 'blue', to: 'green' });
      expect(await serving(80)).toMatchObject({ color: 'green', version: 'v1.1.0' });
      expect(await serving(80, '/preview/health')).toMatchObject({ color: 'blue', version: 'v1.0.0' });

      const report = await load.stop();
      load = undefined;
      recordTiming(
        'switch + toggle + rollback under load',
        Date.now() - started,
        `${report.requests} requests, ${report.failed} failed, ${JSON.stringify(report.byColorVersion)}`,
      );
      expect(report.failures).toEqual([]);
      expect(report.failed).toBe(0);
      expect(report.byStatus).toEqual({ '200': report.requests });
      // Both colors answered the clients: the switches happened under their load.
      expect(Object.keys(report.byColorVersion).sort()).toEqual(['blue v1.0.0', 'green v1.1.0']);
      expect(report.requests).toBeGreaterThan(1000);
    },
    4 * SWITCH_TIMEOUT_MS,
  );

  it(
    '`npx nx run deploy:switch --backend=compose` reaches the Compose backend through Nx (as the README writes it)',
    async () => {
      const nx = await exec(
        'npx',
        ['nx', 'run', 'deploy:switch', '--backend=compose', '--color=blue', `--state-dir=${stateDir}`, '--output-style=stream'],
        // As a person runs it, not as a task of the `nx run-many` that may run this suite: Nx takes a
        // task that another process under the same root runs at that moment (here deploy:integration's
        // nx-targets spec) for a loop, and refuses it.
        { env: { NX_DAEMON: 'false', NX_TUI: 'false', NX_INVOCATION_ROOT_PID: undefined }, timeoutMs: SWITCH_TIMEOUT_MS },
      );
      expect({ status: nx.status, out: nx.status === 0 ? '' : nx.stdout + nx.stderr }).toEqual({ status: 0, out: '' });
      expect(await serving(80)).toMatchObject({ color: 'blue', version: 'v1.0.0' });
      // Back to green, where the next file expects live traffic.
      expect((await cli('switch', '--color=green')).result).toMatchObject({ to: 'green' });
    },
    2 * SWITCH_TIMEOUT_MS,
  );

  it(
    'a switch to the color already live is a no-op that says so',
    async () => {
      expect((await cli('switch', '--color=green')).result).toMatchObject({ kind: 'noop' });
      expect(await serving(80)).toMatchObject({ color: 'green' });
    },
    SWITCH_TIMEOUT_MS,
  );
});
