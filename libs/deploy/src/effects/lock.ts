import { mkdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { lock } from 'proper-lockfile';
import { DeployError, isNotWritable } from '../errors';

/** A lock whose holder died is taken over after this long (proper-lockfile keeps a live one fresh). */
const LOCK_STALE_MS = 10_000;
/** How long a refused command waits for the holder to say who it is (see readLockInfoSoon). */
const INFO_WAIT_MS = 1_000;
const INFO_POLL_MS = 25;

/** Where the lock lives: proper-lockfile's folder, and a note beside it saying who holds it. */
export interface LockFiles {
  readonly stateDir: string;
  readonly lockDir: string;
  readonly lockInfoFile: string;
}

/** Who asks for the lock, for the refusal message of whoever comes second. */
export interface LockHolder {
  readonly command: string;
  readonly user: string;
  /** How long to wait when it is held (0 = refuse at once). */
  readonly waitMs?: number;
  /** Set on the one retry after a dead holder's lock was removed. */
  readonly retriedDeadHolder?: boolean;
}

/**
 * Mutual exclusion for the commands that change a deployment: a file lock in the state folder
 * (local, Compose), a Lease on Kubernetes. `hold` runs the action holding it, or throws LOCKED
 * naming the holder.
 */
export interface Lock {
  hold<T>(holder: LockHolder, action: () => Promise<T>): Promise<T>;
  /**
   * Throws LOCKED when the command holding this lock can no longer be sure it does (a file lock
   * compromised, a Lease not renewed): called before each change, so it stops before the next one.
   */
  assertHeld?(): void;
  /**
   * Who holds the lock now, when that is a live process on this machine (a file lock); undefined
   * when nobody does, or when the lock can not tell (a Lease).
   */
  holder?(): LockHolderProcess | undefined;
}

/** The process that holds a file lock, which can be signalled (e.g. asked to stop a canary). */
export interface LockHolderProcess {
  readonly command: string;
  readonly pid: number;
  /** false when it is gone. */
  signal(signal: NodeJS.Signals): boolean;
}

/** The lock in a state folder (proper-lockfile), see {@link withStackLock}. */
export function fileLock(files: LockFiles, options: { readonly staleMs?: number } = {}): Lock {
  let held: { lost: string | undefined } | undefined;
  return {
    hold: async (holder, action) => {
      const state: { lost: string | undefined } = { lost: undefined };
      held = state;
      try {
        return await withStackLock(files, holder, action, { ...options, onCompromised: (error) => (state.lost ??= error.message) });
      } finally {
        if (held === state) held = undefined;
      }
    },
    assertHeld: () => {
      if (held?.lost === undefined) return;
      throw new DeployError(
        'LOCKED',
        `This command lost its lock ${files.lockDir} (${held.lost}), so it stopped before its next change: another command may hold it now.`,
        { hint: 'See what was changed with the status command, then run the command again.' },
      );
    },
    holder: () => {
      const info = readLockInfo(files.lockInfoFile);
      // A pid from another host or PID namespace, or one reused by another process since, is not the holder: never signal it.
      if (!info || !sameProcessSpace(info) || !processAlive(info.pid) || info.pid === process.pid || !stillTheHolder(info))
        return undefined;
      return { command: info.command, pid: info.pid, signal: (signal) => sendSignal(info.pid, signal) };
    },
  };
}

function sendSignal(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Whether a process with this pid runs (signal 0 checks without sending anything). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Who holds the lock, written beside it so a refused command can say so. */
interface LockInfo {
  readonly command: string;
  readonly pid: number;
  readonly user: string;
  readonly since: string;
  /** Where `pid` means something: the host and its PID namespace (a container has its own). */
  readonly host?: string;
  readonly pidNamespace?: string;
  /** Which process `pid` was (pids are reused): its start time (Linux clock ticks since boot) and its script. */
  readonly startTicks?: string;
  readonly script?: string;
}

/** A process's start time in clock ticks since boot (/proc/<pid>/stat, field 22), where /proc says. */
function startTicks(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** A process's command line, NUL-separated in /proc (or from ps). */
function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    const ps = spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
    return ps.status === 0 ? ps.stdout.trim() : undefined;
  }
}

/**
 * Whether `info.pid` is still the process that wrote the note: the same start time where /proc
 * tells, else a command line that runs the same script. A pid reused by another process is not.
 */
function stillTheHolder(info: LockInfo): boolean {
  if (info.startTicks !== undefined) {
    const now = startTicks(info.pid);
    if (now !== undefined) return now === info.startTicks;
  }
  return info.script !== undefined && (commandLine(info.pid)?.includes(info.script) ?? false);
}

/** This process's PID namespace (`pid:[4026531836]`), or undefined where /proc does not say. */
export function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/**
 * Whether the note's pid names a process this one can see: the same host and PID namespace. A CLI
 * in a container (CD's container mode) and one on the host share a state folder but not their pids:
 * a holder's pid that looks dead from the other side may be alive.
 */
function sameProcessSpace(info: LockInfo): boolean {
  const own = pidNamespace();
  return info.host === hostname() && own !== undefined && info.pidNamespace === own;
}

/**
 * Runs `action` holding the stack's lock (proper-lockfile on the state folder), so two deploy
 * commands never interleave. When it is held: waits up to `waitMs` (0 = refuse at once).
 * @throws DeployError LOCKED naming the holder
 */
export async function withStackLock<T>(
  layout: LockFiles,
  holder: LockHolder,
  action: () => Promise<T>,
  options: { readonly staleMs?: number; readonly onCompromised?: (error: Error) => void } = {},
): Promise<T> {
  mkdirSync(layout.stateDir, { recursive: true });
  let release: () => Promise<void>;
  try {
    const waitMs = holder.waitMs ?? 0;
    release = await lock(layout.stateDir, {
      lockfilePath: layout.lockDir,
      realpath: false,
      stale: options.staleMs ?? LOCK_STALE_MS,
      retries: waitMs > 0 ? { retries: Math.ceil(waitMs / 250), minTimeout: 250, maxTimeout: 250, factor: 1 } : 0,
      // Compromised (its mtime could not be refreshed, or someone else took it): not a crash half-way,
      // but the command stops before its next change (the Lock's assertHeld).
      onCompromised: options.onCompromised ?? (() => undefined),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw notWritable(layout, error);
    const info = await readLockInfoSoon(layout.lockInfoFile);
    // A holder killed (kill -9) in this PID namespace leaves a lock nobody refreshes: take it over at
    // once. Anyone else's goes stale by itself (nobody refreshes it) and proper-lockfile takes it then.
    if (info && sameProcessSpace(info) && !alive(info.pid) && !holder.retriedDeadHolder && lockMadeBy(layout, info)) {
      rmSync(layout.lockDir, { recursive: true, force: true });
      rmSync(layout.lockInfoFile, { force: true });
      return withStackLock(layout, { ...holder, retriedDeadHolder: true }, action, options);
    }
    const who = info ? ` \`${info.command}\` (pid ${info.pid}, user ${info.user}) holds it since ${info.since}.` : '';
    throw new DeployError('LOCKED', `Lock: ${layout.lockDir}.${who}`);
  }
  const namespace = pidNamespace();
  const started = startTicks('self');
  const info: LockInfo = {
    command: holder.command,
    pid: process.pid,
    user: holder.user,
    since: new Date().toISOString(),
    host: hostname(),
    ...(namespace ? { pidNamespace: namespace } : {}),
    ...(started ? { startTicks: started } : {}),
    ...(process.argv[1] ? { script: process.argv[1] } : {}),
  };
  try {
    writeFileSync(layout.lockInfoFile, `${JSON.stringify(info)}\n`);
  } catch (error) {
    await release().catch(() => undefined);
    throw notWritable(layout, error);
  }
  try {
    return await action();
  } finally {
    // A folder that turned read-only keeps the note and the lock: the next command takes over a
    // lock whose holder is gone, and the action's own error is the one to report.
    try {
      rmSync(layout.lockInfoFile, { force: true });
    } catch {
      // see above
    }
    await release().catch(() => undefined);
  }
}

/**
 * The holder writes who it is just after it took the lock, so a command refused in that moment
 * waits a little for it rather than refusing without naming the holder.
 */
async function readLockInfoSoon(file: string, waitMs = INFO_WAIT_MS): Promise<LockInfo | undefined> {
  for (let waited = 0; ; waited += INFO_POLL_MS) {
    const info = readLockInfo(file);
    if (info || waited >= waitMs) return info;
    await new Promise((resolve) => setTimeout(resolve, INFO_POLL_MS));
  }
}

function readLockInfo(file: string): LockInfo | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A state folder that can not be written is the user's to fix, with a clear message; anything else stays unexpected. */
function notWritable(layout: LockFiles, error: unknown): unknown {
  if (isNotWritable(error)) {
    return new DeployError(
      'STATE_NOT_WRITABLE',
      `The lock in ${layout.stateDir} could not be taken (${(error as Error).message}); nothing was changed.`,
    );
  }
  return error;
}

/** Whether the lock folder is the one whose holder wrote `info` (not a newer one whose holder has not written its note yet). */
function lockMadeBy(layout: LockFiles, info: LockInfo): boolean {
  try {
    return Math.abs(statSync(layout.lockDir).birthtimeMs - Date.parse(info.since)) < 2_000;
  } catch {
    return false;
  }
}
