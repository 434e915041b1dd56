import { type CanaryLaunch, type CommandOutput, commandOutput } from '@mlbg/contract';
import type { z } from 'zod';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CanaryStartBody } from '../commands/canary/canary.command';
import type { CanaryRun } from '../commands/canary/canary-progress-file';
import type { Clock } from '../effects/deps';
import type { JsonFile } from '../effects/json-file';
import { USER_VARIABLE } from '../effects/real-deps';
import { DeployError } from '../errors';
import type { BackendKind } from '../history/history';
import type { ActionOutcome } from './actions';
import { readLogFrom, readTail } from '../effects/log-files';

/** How often a starting canary's run file, exit and log are looked at. */
const POLL_MS = 100;
/** The launch folders kept in the state folder (older ones are removed at the next start). */
const KEPT_LAUNCHES = 10;
/** Lines of a canary's log shown when it ended without a readable answer. */
/** The end of a canary's log read for its last lines: never the whole log. */
const LOG_TAIL_BYTES = 64 * 1024;
const LOG_TAIL_LINES = 20;

/** The deploy CLI as a command line: `node -r @swc-node/register libs/deploy/src/cli/main.ts` (what `nx run deploy:dashboard` runs). */
export interface CliCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** What the page asks of a canary start (the CLI's flags of a start): the body of the canary's page action. */
export type CanaryStart = z.infer<typeof CanaryStartBody>;

export interface CanaryLaunchTarget {
  readonly cli: CliCommand;
  readonly stateDir: string;
  readonly backend: BackendKind;
  /** The dashboard's own backend flags beyond these (`--context`, `--namespace` on Kubernetes). */
  readonly backendFlags?: readonly string[];
  /** Recorded in the history by the canary process ({@link USER_VARIABLE}). */
  readonly userName: string;
  /** The running canary's progress file (`canary.json`), which names its pid once its first step is on. */
  readonly runFile: JsonFile<CanaryRun> | undefined;
  readonly clock: Clock;
}

/** The `deploy canary` command line of a start from the page. */
export function canaryFlags(start: CanaryStart, target: Pick<CanaryLaunchTarget, 'stateDir' | 'backend' | 'backendFlags'>): string[] {
  return [
    'canary',
    ...(start.color ? [`--color=${start.color}`] : []),
    ...(start.steps ? [`--steps=${start.steps.join(',')}`] : []),
    ...(start.intervalSeconds !== undefined ? [`--interval=${Math.round(start.intervalSeconds * 1000)}ms`] : []),
    ...(start.expectVersion ? [`--expect-version=${start.expectVersion}`] : []),
    ...(start.expectOutputChange ? ['--expect-output-change'] : []),
    `--state-dir=${target.stateDir}`,
    `--backend=${target.backend}`,
    ...(target.backendFlags ?? []),
    '--json',
  ];
}

/**
 * Starts `deploy canary` as its own detached process, exactly as a user would in a terminal: the
 * canary runs for minutes holding the stack's lock, and must go on (or roll back on its own
 * SIGTERM) whatever happens to the dashboard. Its progress goes to a log in the state folder (and
 * to `progress` while this waits), its --json answer to a file beside it.
 *
 * Answers once the canary's run file names the new process (its first step is on: started), or
 * with the process's own answer when it ended first (a gate refused, the lock is held, ...).
 */
export async function launchCanary(
  start: CanaryStart,
  target: CanaryLaunchTarget,
  progress: (line: string) => void,
): Promise<ActionOutcome> {
  const folder = join(target.stateDir, 'dashboard-canary');
  mkdirSync(folder, { recursive: true });
  pruneLaunches(folder);
  const id = new Date(target.clock.now()).toISOString().replace(/[:.]/g, '-');
  const logFile = join(folder, `${id}.log`);
  const answerFile = join(folder, `${id}.json`);
  const args = canaryFlags(start, target);
  const [out, err] = [openSync(answerFile, 'w'), openSync(logFile, 'w')];
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(target.cli.command, [...target.cli.args, ...args], {
      cwd: target.cli.cwd,
      env: { ...target.cli.env, [USER_VARIABLE]: target.userName },
      detached: true,
      stdio: ['ignore', out, err],
    });
  } finally {
    closeSync(out);
    closeSync(err);
  }
  const exited = new Promise<{ code: number | null; error?: string }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, error: error.message }));
    child.once('exit', (code, signal) => resolve({ code, ...(signal ? { error: `killed by ${signal}` } : {}) }));
  });
  child.unref();
  let ended: { code: number | null; error?: string } | undefined;
  void exited.then((end) => (ended = end));
  progress(`started \`deploy ${args.join(' ')}\` (pid ${child.pid ?? '?'}), its log: ${logFile}`);

  let logOffset = 0;
  const forwardLog = () => {
    const { text } = readLogFrom(logFile, logOffset);
    const end = text.lastIndexOf('\n') + 1;
    logOffset += Buffer.byteLength(text.slice(0, end));
    for (const line of text.slice(0, end).split('\n').filter(Boolean)) progress(line);
  };
  for (;;) {
    forwardLog();
    const run = target.runFile?.read();
    if (child.pid !== undefined && run?.pid === child.pid) {
      const launched: CanaryLaunch = {
        kind: 'started',
        pid: child.pid,
        stable: run.stable,
        canary: run.canary,
        weight: run.weight,
        step: run.step,
        steps: run.steps,
        log: logFile,
      };
      return { ok: true, result: launched };
    }
    if (ended) {
      forwardLog();
      return answerOf(answerFile, logFile, ended);
    }
    await target.clock.sleep(POLL_MS);
  }
}

/** The canary process's own --json answer, or what its log says when it gave none. */
function answerOf(answerFile: string, logFile: string, ended: { code: number | null; error?: string }): ActionOutcome {
  try {
    const printed: unknown = JSON.parse(readFileSync(answerFile, 'utf8'));
    // Checked against the contract, then passed on as printed (a parsed copy has its keys in the schema's order).
    commandOutput('canary').parse(printed);
    const answer = printed as CommandOutput<'canary'>;
    return { ok: answer.ok, result: answer.result, ...(answer.error ? { error: answer.error } : {}) };
  } catch {
    const tail = readTail(logFile, LOG_TAIL_BYTES).trim().split('\n').slice(-LOG_TAIL_LINES).join('\n');
    const error = new DeployError(
      'UNEXPECTED',
      `the canary process ended (${ended.error ?? `exit ${ended.code}`}) without an answer; its log (${logFile}) ends with:\n${tail || '(nothing)'}`,
    );
    return { ok: false, result: null, error: { code: error.code, message: error.message, hint: error.hint } };
  }
}

/** Keeps the newest launches' logs and answers (their names sort by time). */
function pruneLaunches(folder: string): void {
  const launches = [...new Set(readdirSync(folder).map((name) => name.replace(/\.(log|json)$/, '')))].sort();
  for (const old of launches.slice(0, Math.max(0, launches.length - KEPT_LAUNCHES + 1))) {
    rmSync(join(folder, `${old}.log`), { force: true });
    rmSync(join(folder, `${old}.json`), { force: true });
  }
}
