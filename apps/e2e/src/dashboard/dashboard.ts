import { DashboardStarted, cliOutput } from '@mlbg/contract';
import { freePort } from '@mlbg/deploy/testing';
import type { Page } from '@playwright/test';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { WORKSPACE_ROOT } from '../support/stack';

/** A `deploy dashboard` process on the suite's stack, started as a user starts it (the CLI). */
export interface DashboardProcess {
  readonly url: string;
  readonly openUrl: string;
  readonly token: string;
  readonly port: number;
  /** Everything the process printed, for failure messages. */
  readonly output: () => string;
  stop(): Promise<void>;
}

/** Starts the CLI's dashboard on a free loopback port and waits for the line that names its URL. */
export async function startDashboardProcess(stateDir: string, flags: readonly string[] = [], port?: number): Promise<DashboardProcess> {
  port ??= await freePort();
  const child: ChildProcess = spawn(
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
    {
      cwd: WORKSPACE_ROOT,
      env: { ...process.env, SWC_NODE_PROJECT: 'libs/deploy/tsconfig.lib.json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const started = await new Promise<DashboardStarted>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
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
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Fails the test on any request the page makes to anything but this machine's loopback: the
 * dashboard must load nothing from outside (no CDN, no fonts, no telemetry).
 */
export async function onlyLoopback(page: Page): Promise<string[]> {
  const outside: string[] = [];
  await page.context().route('**/*', async (route) => {
    const { protocol, hostname } = new URL(route.request().url());
    if ((protocol === 'http:' || protocol === 'https:' || protocol === 'ws:') && !['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) {
      outside.push(route.request().url());
      return route.abort('blockedbyclient');
    }
    return route.continue();
  });
  return outside;
}

/** Confirms the dialog and waits for the action's answer: as long as the command takes (its own deadlines), within the test's timeout. */
export async function confirmAction(page: Page, name: string): Promise<void> {
  const answered = page.waitForResponse((response) => response.url().endsWith(`/api/actions/${name}`), { timeout: 0 });
  await page.getByTestId('confirm-yes').click();
  await answered;
}
