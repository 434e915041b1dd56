import { DashboardSnapshot, DashboardStarted, cliOutput } from '@mlbg/contract';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { freePort } from '../effects/real-deps';
import { WORKSPACE_ROOT } from './stack-harness';

/** A `deploy dashboard` process, started as a user starts it (the CLI, as `nx run deploy:dashboard` does). */
export interface DashboardProcess {
  readonly url: string;
  readonly openUrl: string;
  readonly token: string;
  readonly port: number;
  /** Everything the process printed, for failure messages. */
  readonly output: () => string;
  /** The page's `GET /api/state`, checked against the contract's schema: what it answers is what the page renders. */
  state(): Promise<DashboardSnapshot>;
  stop(): Promise<void>;
}

/**
 * Starts the CLI's dashboard on a free loopback port (or `port`) with `flags` (e.g.
 * `--backend=compose`, `--read-only`) and waits for the `--json` line that names its URL. It
 * prints it once it listens: seconds (swc compiles the CLI first); a failure to start rejects
 * with everything it printed.
 */
export async function startDashboardProcess(stateDir: string, flags: readonly string[] = [], port?: number): Promise<DashboardProcess> {
  port ??= await freePort();
  const child = spawn(
    process.execPath,
    [
      '-r',
      '@swc-node/register',
      'libs/deploy/src/cli/main.ts',
      'dashboard',
      `--state-dir=${stateDir}`,
      `--port=${port}`,
      '--json',
      ...flags,
    ],
    { cwd: WORKSPACE_ROOT, env: { ...process.env, SWC_NODE_PROJECT: 'libs/deploy/tsconfig.lib.json' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const started = await new Promise<DashboardStarted>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      output += `${line}\n`;
      if (!line.startsWith('{')) return;
      const parsed = cliOutput('dashboard').parse(JSON.parse(line));
      if (parsed.ok) resolve(DashboardStarted.parse('result' in parsed ? parsed.result : null));
      else reject(new Error(`deploy dashboard failed: ${line}`));
    });
    child.once('exit', (code) => reject(new Error(`deploy dashboard exited (${code}) before it printed its URL:\n${output}`)));
  });
  return {
    ...started,
    port,
    output: () => output,
    async state() {
      const answer = await fetch(`${started.url.replace(/\/$/, '')}/api/state`, { headers: { authorization: `Bearer ${started.token}` } });
      if (answer.status !== 200) throw new Error(`GET /api/state answered ${answer.status}: ${await answer.text()}`);
      return DashboardSnapshot.parse(await answer.json());
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
