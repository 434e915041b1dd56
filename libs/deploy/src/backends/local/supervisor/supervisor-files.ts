import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ProcessPhase } from '@mlbg/contract';
import { z } from 'zod';

/**
 * The two files between the deploy CLI and the stack's supervisor: the plan (what to run, written
 * by the CLI, re-read on SIGHUP) and the status (what runs, written by the supervisor after every
 * change). Both are replaced whole (temp file + rename), so a reader never sees half of one.
 * The supervisor knows nothing of colors or nginx: an entry is a named process with a command
 * line, a pid file, a log file and a health probe, so a new process (a relay) is one more entry.
 */

/** How a supervised process is checked: an HTTP GET on a unix socket or a loopback port. */
export const HealthProbe = z.strictObject({
  socketPath: z.string().optional(),
  host: z.string().optional(),
  port: z.int().optional(),
  path: z.string(),
  /** `ok`: 200 is ready; `any-answer`: any HTTP answer to a Host-less request, which a router answers itself (400) without asking a color. */
  expect: z.enum(['ok', 'any-answer']),
});
export type HealthProbe = z.infer<typeof HealthProbe>;

export const SupervisedProcess = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/),
  command: z.string(),
  args: z.array(z.string()),
  cwd: z.string(),
  env: z.record(z.string(), z.string()),
  logFile: z.string(),
  pidFile: z.string(),
  /** SIGTERM for a service that drains, SIGQUIT for nginx. */
  stopSignal: z.enum(['SIGTERM', 'SIGQUIT', 'SIGINT']),
  /** What makes a pid found in the pid file this process (pids are reused): all of these in its command line, these in its environment. */
  match: z.strictObject({ cmdline: z.array(z.string()), env: z.record(z.string(), z.string()) }),
  /** Changes when the process must be started anew (a release's new model); anything else in the plan may change freely. */
  config: z.string(),
  probe: HealthProbe.nullable(),
  /** Logs the process writes itself (by name) besides its output, and the signal that makes it reopen them (nginx: SIGUSR1). */
  ownLogs: z.strictObject({ files: z.array(z.string()), reopenSignal: z.literal('SIGUSR1') }).optional(),
});
export type SupervisedProcess = z.infer<typeof SupervisedProcess>;

/** The supervisor's policy, from the spec's `supervisor` section. */
export const SupervisorPolicy = z.strictObject({
  restartDelayMs: z.int(),
  maxRestartDelayMs: z.int(),
  maxRestarts: z.int(),
  stableAfterMs: z.int(),
  probeIntervalMs: z.int(),
  probeTimeoutMs: z.int(),
  unreadyLimitMs: z.int(),
  startGraceMs: z.int(),
});
export type SupervisorPolicy = z.infer<typeof SupervisorPolicy>;

export const SupervisorPlan = z.strictObject({
  /** Appended to the history (restarts, failures) with this backend's stamp. */
  historyFile: z.string(),
  statusFile: z.string(),
  user: z.string(),
  policy: SupervisorPolicy,
  processes: z.array(SupervisedProcess),
});
export type SupervisorPlan = z.infer<typeof SupervisorPlan>;

export const ProcessReport = z.strictObject({
  phase: ProcessPhase,
  pid: z.int().nullable(),
  config: z.string(),
  /** Taken over from an earlier supervisor (its exit status can not be known: it is not our child). */
  adopted: z.boolean(),
  since: z.string(),
  /** Every restart after an unexpected exit (or a hang), since the supervisor started. */
  restarts: z.int(),
  /** Exits of the process started on the current config (a release waits on it). */
  exitsOnConfig: z.int(),
  lastExit: z.strictObject({ at: z.string(), reason: z.string() }).nullable(),
  /** The last lines of its log when it failed. */
  logTail: z.string().nullable(),
});
export type ProcessReport = z.infer<typeof ProcessReport>;

export const SupervisorStatus = z.strictObject({
  pid: z.int(),
  startedAt: z.string(),
  updatedAt: z.string(),
  processes: z.record(z.string(), ProcessReport),
});
export type SupervisorStatus = z.infer<typeof SupervisorStatus>;

/** Writes a file whole: a temp file beside it, renamed over it. */
export function writeJsonAtomic(file: string, value: unknown): void {
  const next = `${file}.${process.pid}.tmp`;
  writeFileSync(next, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(next, file);
}

export function writePlan(file: string, plan: SupervisorPlan): void {
  writeJsonAtomic(file, SupervisorPlan.parse(plan));
}

/** @throws Error when the plan is missing or not valid */
export function readPlan(file: string): SupervisorPlan {
  return SupervisorPlan.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/** undefined when there is no status file yet (or it can not be read). */
export function readSupervisorStatus(file: string): SupervisorStatus | undefined {
  try {
    const parsed = SupervisorStatus.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The delay before restart number `attempt` (1, 2, ...): `initial`, doubling, at most `cap`. Pure. */
export function backoffMs(attempt: number, initial: number, cap: number): number {
  return Math.min(cap, initial * 2 ** Math.max(0, attempt - 1));
}
