import { type CliError, type CommandResult, type ResultCommand, cliOutput } from '@mlbg/contract';
import { realDeps, runCli } from '@mlbg/deploy';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';

export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');
/** Where global setup leaves the stack's facts for the specs and for teardown. */
const STACK_FILE = resolve(WORKSPACE_ROOT, 'dist/.playwright/apps/e2e/stack.json');

/** The local stack the suite runs against: real services, real nginx, its own state folder and ports. */
export interface StackInfo {
  stateDir: string;
  routerUrl: string;
  previewUrl: string;
  ports: { router: number; blue: number; green: number };
  /** Every pid `up` started, so teardown can prove none is left. */
  pids: number[];
}

/** What `deploy <command> --json` printed (its types are the contract's), and its exit status and progress. */
export interface DeployRun<C extends ResultCommand> {
  code: number;
  ok: boolean;
  /** The command's result: read it once `ok` (a failed command leaves null, or what it did before it failed). */
  result: CommandResult<C>;
  error?: CliError;
  stderr: string;
}

/**
 * Runs one deploy command through the deploy library (the code `nx run deploy:<command>` runs),
 * with `--json`, against the given state folder. What it prints must parse with the contract's
 * schema of that command: a drift between the CLI and @mlbg/contract fails the spec that ran it.
 */
export async function deploy<C extends ResultCommand>(stateDir: string, command: C, ...flags: string[]): Promise<DeployRun<C>> {
  let stdout = '';
  let stderr = '';
  const env = { ...process.env, BLUEGREEN_STATE_DIR: stateDir };
  const code = await runCli([command, ...flags, '--json'], {
    env,
    workspaceRoot: WORKSPACE_ROOT,
    cwd: WORKSPACE_ROOT,
    stdout: (text) => (stdout += `${text}\n`),
    stderr: (text) => (stderr += `${text}\n`),
    deps: (progress) => realDeps({ workspaceRoot: WORKSPACE_ROOT, env, progress }),
  });
  const parsed = cliOutput(command).parse(JSON.parse(stdout));
  const result = ('result' in parsed ? parsed.result : null) as CommandResult<C>;
  return { code, ok: parsed.ok, result, ...(parsed.error ? { error: parsed.error } : {}), stderr };
}

export function saveStack(info: StackInfo): void {
  mkdirSync(dirname(STACK_FILE), { recursive: true });
  writeFileSync(STACK_FILE, JSON.stringify(info, null, 2));
}

export function loadStack(): StackInfo {
  return JSON.parse(readFileSync(STACK_FILE, 'utf8')) as StackInfo;
}

/** True while something accepts connections on the port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(true));
    server.listen(port, '127.0.0.1', () => server.close(() => done(false)));
  });
}

/** True while a process with this pid runs (a zombie waiting for its parent to reap it has stopped). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
