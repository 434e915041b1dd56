import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Clock, ProcessControl, ProcessInfo } from '../../../effects/deps';
import { REPLICA_ENV_MARKER, STACK_ENV_MARKER, type StackLayout, type StackProcess, replicaOf } from '../layout';

/** How long a process gets to exit on its own before SIGKILL (the service drains for up to 10 s). */
export const DEFAULT_STOP_TIMEOUT_MS = 15_000;
const KILL_WAIT_MS = 3_000;
const POLL_MS = 50;
const PROGRESS_EVERY_MS = 2_000;

export type PidFileRead =
  { readonly kind: 'missing' } | { readonly kind: 'invalid'; readonly text: string } | { readonly kind: 'ok'; readonly pid: number };

export function readPidFile(file: string): PidFileRead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { kind: 'missing' };
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 1 ? { kind: 'ok', pid } : { kind: 'invalid', text: text.trim().slice(0, 40) };
}

export function writePidFile(file: string, pid: number): void {
  writeFileSync(file, `${pid}\n`);
}

export function removePidFile(file: string): void {
  rmSync(file, { force: true });
}

/**
 * Whether a live process is the one this stack started, so a pid reused by the system is never
 * signalled: a replica runs the stack's service file with the stack's marker, its COLOR and its
 * replica number in its environment; nginx's master names the stack's own prefix on its command line.
 */
export function isStackProcess(layout: StackLayout, process: StackProcess, info: ProcessInfo): boolean {
  const command = info.cmdline.join(' ');
  if (process === 'nginx') return command.includes('nginx') && command.includes(`-p ${layout.nginxPrefix}/`);
  const replica = replicaOf(process);
  if (!replica || !info.cmdline.includes(layout.serviceMain)) return false;
  if (!info.environ) return true; // not readable (another user): the command line has to do
  const { environ } = info;
  // A replica started before replicas existed has no number: it is replica 1.
  const number = environ[REPLICA_ENV_MARKER] ?? '1';
  return environ[STACK_ENV_MARKER] === layout.stateDir && environ['COLOR'] === replica.color && number === String(replica.replica);
}

/** Every stack process that has a pid file now (whatever the spec says: `down` stops what was started). */
export function processesWithPidFiles(layout: StackLayout): StackProcess[] {
  let files: string[];
  try {
    files = readdirSync(layout.pidDir);
  } catch {
    return [];
  }
  return files
    .filter((file) => file.endsWith('.pid'))
    .map((file) => file.slice(0, -'.pid'.length))
    .filter((name): name is StackProcess => name === 'nginx' || replicaOf(name) !== undefined)
    .sort();
}

/** What is known about one of the stack's processes, from its pid file and the system. */
export type ProcessCheck =
  | { readonly kind: 'none' }
  | { readonly kind: 'invalid-pid-file'; readonly text: string }
  | { readonly kind: 'dead'; readonly pid: number }
  | { readonly kind: 'not-ours'; readonly pid: number; readonly command: string }
  | { readonly kind: 'running'; readonly pid: number };

export function checkProcess(processes: ProcessControl, layout: StackLayout, process: StackProcess): ProcessCheck {
  const file = readPidFile(layout.pidFile(process));
  if (file.kind === 'missing') return { kind: 'none' };
  if (file.kind === 'invalid') return { kind: 'invalid-pid-file', text: file.text };
  const info = processes.inspect(file.pid);
  if (!info) return { kind: 'dead', pid: file.pid };
  if (!isStackProcess(layout, process, info)) return { kind: 'not-ours', pid: file.pid, command: info.cmdline.join(' ').slice(0, 120) };
  return { kind: 'running', pid: file.pid };
}

export type StopResult =
  | { readonly kind: 'not-running' }
  | { readonly kind: 'not-ours'; readonly command: string }
  | { readonly kind: 'stopped'; readonly ms: number }
  | { readonly kind: 'killed'; readonly ms: number }
  | { readonly kind: 'survived' };

export interface StopOptions {
  readonly label: string;
  /** SIGTERM for a color (it drains), SIGQUIT for nginx (graceful). */
  readonly signal: NodeJS.Signals;
  readonly timeoutMs: number;
  readonly progress: (line: string) => void;
  /** Leave its children alone (the supervisor's children are the stack's processes, stopped apart). */
  readonly keepChildren?: boolean;
}

/**
 * Stops one process this stack started: the polite signal, a wait, then SIGKILL. Children it had
 * (nginx's workers) are killed too if they outlive it. Never signals a process that is not ours.
 */
export async function stopProcess(
  deps: { processes: ProcessControl; clock: Clock },
  pid: number,
  isOurs: (info: ProcessInfo) => boolean,
  options: StopOptions,
): Promise<StopResult> {
  const { processes, clock } = deps;
  const info = processes.inspect(pid);
  if (!info) return { kind: 'not-running' };
  if (!isOurs(info)) return { kind: 'not-ours', command: info.cmdline.join(' ').slice(0, 120) };
  const children = options.keepChildren ? [] : processes.children(pid);
  const started = clock.now();
  if (!processes.signal(pid, options.signal)) return { kind: 'not-running' };

  let result: StopResult;
  if (
    await waitForExit(deps, pid, options.timeoutMs, (ms) =>
      options.progress(`  waiting for ${options.label} (pid ${pid}) to exit: ${(ms / 1000).toFixed(0)} s`),
    )
  ) {
    result = { kind: 'stopped', ms: clock.now() - started };
  } else {
    options.progress(`  ${options.label} (pid ${pid}) did not exit within ${options.timeoutMs} ms; sending SIGKILL`);
    processes.signal(pid, 'SIGKILL');
    result = (await waitForExit(deps, pid, KILL_WAIT_MS)) ? { kind: 'killed', ms: clock.now() - started } : { kind: 'survived' };
  }
  // Orphans left by a killed parent (nginx workers keep serving without their master).
  for (const child of children) {
    const childInfo = processes.inspect(child);
    if (childInfo && childInfo.ppid !== pid && childInfo.cmdline.join(' ').includes(info.cmdline[0]?.split(':')[0] ?? '\0')) {
      processes.signal(child, 'SIGKILL');
    }
  }
  return result;
}

async function waitForExit(
  deps: { processes: ProcessControl; clock: Clock },
  pid: number,
  timeoutMs: number,
  onSlow?: (elapsedMs: number) => void,
): Promise<boolean> {
  const started = deps.clock.now();
  let nextReport = started + PROGRESS_EVERY_MS;
  for (;;) {
    if (!deps.processes.inspect(pid)) return true;
    const now = deps.clock.now();
    if (now - started >= timeoutMs) return false;
    if (onSlow && now >= nextReport) {
      onSlow(now - started);
      nextReport = now + PROGRESS_EVERY_MS;
    }
    await deps.clock.sleep(POLL_MS);
  }
}
