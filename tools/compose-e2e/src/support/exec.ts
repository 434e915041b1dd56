import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** The repository root. */
export const WORKSPACE_ROOT = join(__dirname, '../../../..');
/** The seed's three files, in its order. */
export const COMPOSE_FILES = ['docker-compose.yml', 'docker-compose.blue.yml', 'docker-compose.green.yml'] as const;
export const COMPOSE_FLAGS = COMPOSE_FILES.flatMap((file) => ['-f', file]);

export interface ExecResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface ExecOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string | undefined>;
  readonly input?: string;
  /** The command is killed after this long; the result then has status null. */
  readonly timeoutMs: number;
}

/**
 * Runs a command to completion without blocking the event loop (load clients keep running while a
 * switch or a deploy runs). Never throws: a command that can not start has status null.
 */
export function exec(command: string, args: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? WORKSPACE_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${options.timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ status: null, stdout, stderr: `${stderr}${error.message}`, ms: Date.now() - started });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code, stdout, stderr, ms: Date.now() - started });
    });
    // A command that exits before it reads its input closes the pipe: that EPIPE is not a failure
    // of ours (its exit status says how it went), and must not crash the test as an unhandled error.
    child.stdin.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') stderr += `\n[stdin: ${error.message}]`;
    });
    child.stdin.end(options.input ?? '');
  });
}

/** `exec`, failing with the command's output when it does not exit 0. */
export async function execOk(command: string, args: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const result = await exec(command, args, options);
  if (result.status !== 0) {
    throw new Error(
      `\`${[command, ...args].join(' ')}\` exited ${result.status}:\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}`,
    );
  }
  return result;
}

/** Compose commands take seconds; a build takes minutes (given by the caller). */
export const COMMAND_TIMEOUT_MS = 120_000;

/** The seed's `docker-compose -f docker-compose.yml -f docker-compose.blue.yml -f docker-compose.green.yml <args>`. */
export function compose(args: readonly string[], options: Partial<ExecOptions> = {}): Promise<ExecResult> {
  return exec('docker-compose', [...COMPOSE_FLAGS, ...args], { timeoutMs: COMMAND_TIMEOUT_MS, ...options });
}

export function docker(args: readonly string[], options: Partial<ExecOptions> = {}): Promise<ExecResult> {
  return exec('docker', args, { timeoutMs: COMMAND_TIMEOUT_MS, ...options });
}

export async function dockerOk(args: readonly string[], options: Partial<ExecOptions> = {}): Promise<string> {
  return (await execOk('docker', args, { timeoutMs: COMMAND_TIMEOUT_MS, ...options })).stdout.trim();
}

/**
 * The deploy CLI as `deploy:build` compiled it (what the image ships and CD runs there), not through
 * swc-node: compiling the CLI at each start costs about half a second of CPU, and the suite starts it
 * dozens of times (the e2e target builds it first). Without Nx: Nx takes `--target` for itself.
 */
export const BUILT_DEPLOY_CLI = 'dist/node_modules/@mlbg/deploy/src/cli/main.js';
export function deployCli(args: readonly string[], options: Partial<ExecOptions> = {}): Promise<ExecResult> {
  return exec(process.execPath, [BUILT_DEPLOY_CLI, ...args], { timeoutMs: COMMAND_TIMEOUT_MS, ...options });
}

/** SIGKILL to a process of this host (a container's, by its host pid): as root, else through sudo. */
export function killProcess(pid: string): Promise<ExecResult> {
  const root = process.getuid?.() === 0;
  return exec(root ? 'kill' : 'sudo', [...(root ? [] : ['kill']), '-KILL', pid], { timeoutMs: 10_000 });
}
