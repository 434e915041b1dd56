import { DashboardSnapshot, DashboardStarted } from '@mlbg/contract';
import { freePort } from '@mlbg/deploy/testing';
import { spawn } from 'node:child_process';
import { WORKSPACE_ROOT } from './exec';

/** The dashboard prints its URL once it listens: seconds here (swc compiles the CLI first). */
const START_TIMEOUT_MS = 60_000;

/**
 * `deploy:dashboard --backend=compose --read-only` on a free loopback port, as its own process
 * (as `nx run deploy:dashboard` starts it): `state()` is the page's `GET /api/state`, checked
 * against the contract's schema, so what it answers is what the page renders.
 */
export async function startComposeDashboard(stateDir: string): Promise<{ state(): Promise<DashboardSnapshot>; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '-r',
      '@swc-node/register',
      'libs/deploy/src/cli/main.ts',
      'dashboard',
      '--backend=compose',
      `--state-dir=${stateDir}`,
      `--port=${port}`,
      '--read-only',
      '--json',
    ],
    { cwd: WORKSPACE_ROOT, env: { ...process.env, SWC_NODE_PROJECT: 'libs/deploy/tsconfig.lib.json' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const started = await new Promise<DashboardStarted>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(
      () => reject(new Error(`the dashboard printed no URL within ${START_TIMEOUT_MS} ms: ${stderr}`)),
      START_TIMEOUT_MS,
    );
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const line = stdout.split('\n').find((item) => item.trim().startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      try {
        resolve(DashboardStarted.parse((JSON.parse(line) as { result: unknown }).result));
      } catch (error) {
        reject(error);
      }
    });
    void exited.then(() => reject(new Error(`the dashboard exited: ${stderr}`)));
  });
  return {
    async state() {
      const answer = await fetch(`${started.url.replace(/\/$/, '')}/api/state`, { headers: { authorization: `Bearer ${started.token}` } });
      if (answer.status !== 200) throw new Error(`GET /api/state answered ${answer.status}: ${await answer.text()}`);
      return DashboardSnapshot.parse(await answer.json());
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
