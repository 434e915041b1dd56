import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { copyTruncateIfOver, renameIfOver } from '../../../effects/log-files';
import { connect } from 'node:net';
import { setPriority } from 'node:os';
import pino from 'pino';
import { httpClient, processControl } from '../../../effects/real-deps';
import { HISTORY_SCHEMA_VERSION } from '../../../history/history';
import type { HistoryStore } from '../../../history/store';
import { appendLogHeader, logTail } from '../services/color-service';
import { type ProcessReport, type SupervisedProcess, type SupervisorPlan, backoffMs, readPlan, writeJsonAtomic } from './supervisor-files';

/** How often a process that is not our child (adopted) is looked at. */
const ADOPTED_POLL_MS = 50;
/** The niceness of a process while it starts (only root may raise a priority; others keep 0). */
const STARTUP_NICE = -10;
/** How long a process being replaced gets to exit before SIGKILL (a color drains for up to 10 s). */
const REPLACE_STOP_MS = 15_000;

/** One supervised process and what the supervisor knows of it. */
interface Tracked {
  spec: SupervisedProcess;
  report: ProcessReport;
  child: ChildProcess | undefined;
  startedAt: number;
  lastReadyAt: number | undefined;
  /** Restarts in a row that did not last `stableAfterMs`. */
  inARow: number;
  logOffset: number;
  /** Set when the exit is wanted (a replacement, a removal): no restart follows. */
  onWantedExit: (() => void) | undefined;
  /** Set when the probe killed it: the exit reason to record. */
  killedBecause: string | undefined;
  probing: boolean;
  timers: Set<NodeJS.Timeout>;
}

/**
 * The local stack's supervisor: one small detached Node process per stack (`supervisor-main.ts`).
 * It starts each process of its plan (or adopts one still running from an earlier supervisor,
 * found by its pid file), restarts one that exits unexpectedly after a growing back-off, marks one
 * failed after too many restarts in a row (with the last lines of its log), kills and restarts one
 * whose health probe fails too long, and reports everything in its status file at once. SIGHUP:
 * read the plan again (new config = replace that process; a failed one is tried again). SIGTERM:
 * exit, leaving the processes running (`down` stops them, in its own order). Restarts and failures
 * go to the stack's history through the {@link HistoryStore} it is given, in the order they happen.
 *
 * Written by hand rather than with pm2 or similar: those run a daemon per user (not per stack),
 * keep their own state in ~/.pm2 and name processes globally, while this stack's pid files,
 * sockets and history must stay in its state folder, and restarts must go to its history.
 */
export class Supervisor {
  private readonly tracked = new Map<string, Tracked>();
  private readonly log = pino({ base: { supervisor: process.pid } }, pino.destination({ sync: true }));
  private readonly startedAt = new Date().toISOString();
  private plan: SupervisorPlan;
  /** The last history write: each waits for the one before, so lines keep the order of events. */
  private historyWritten: Promise<void> = Promise.resolve();

  constructor(
    private readonly planFile: string,
    private readonly history: HistoryStore,
  ) {
    this.plan = readPlan(planFile);
  }

  run(): void {
    process.on('SIGHUP', () => this.reconcile());
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        this.log.info({ signal }, 'stopping the supervisor; the processes keep running');
        process.exit(0);
      });
    }
    setInterval(() => this.probeAll(), this.plan.policy.probeIntervalMs);
    setInterval(() => this.rotateLogs(), LOG_CHECK_MS);
    this.log.info({ processes: this.plan.processes.map((item) => item.name) }, 'supervisor started');
    this.reconcile();
  }

  /** Every log of the stack over its cap: the processes' output, the logs nginx writes itself, this supervisor's own. */
  private rotateLogs(): void {
    for (const item of this.tracked.values()) {
      try {
        if (rotateProcessLogs(item.spec, item.report.pid).output) item.logOffset = 0;
      } catch (error) {
        this.log.warn({ process: item.spec.name, error: (error as Error).message }, 'could not rotate its logs');
      }
    }
    try {
      const own = ownOutputFile();
      if (own) copyTruncateIfOver(own, MAX_STACK_LOG_BYTES);
    } catch (error) {
      this.log.warn({ error: (error as Error).message }, 'could not rotate its own log');
    }
  }

  /** Brings what runs in line with the plan file. */
  private reconcile(): void {
    try {
      this.plan = readPlan(this.planFile);
    } catch (error) {
      this.log.error({ error: (error as Error).message }, 'the plan can not be read; keeping the last one');
    }
    const wanted = new Set(this.plan.processes.map((item) => item.name));
    for (const [name, item] of this.tracked) {
      if (!wanted.has(name))
        void this.stopWanted(item)
          .then(() => this.tracked.delete(name))
          .then(() => this.writeStatus());
    }
    for (const spec of this.plan.processes) {
      const item = this.tracked.get(spec.name);
      if (!item) {
        this.adoptOrStart(this.track(spec));
      } else if (item.spec.config !== spec.config) {
        this.log.info({ process: spec.name }, 'config changed; replacing the process');
        item.spec = spec;
        void this.stopWanted(item).then(() => this.freshStart(item));
      } else {
        item.spec = spec;
        if (item.report.phase === 'failed') {
          this.log.info({ process: spec.name }, 'trying a failed process again');
          this.freshStart(item);
        }
      }
    }
    this.writeStatus();
  }

  private track(spec: SupervisedProcess): Tracked {
    const item: Tracked = {
      spec,
      report: {
        phase: 'starting',
        pid: null,
        config: spec.config,
        adopted: false,
        since: new Date().toISOString(),
        restarts: 0,
        exitsOnConfig: 0,
        lastExit: null,
        logTail: null,
      },
      child: undefined,
      startedAt: Date.now(),
      lastReadyAt: undefined,
      inARow: 0,
      logOffset: 0,
      onWantedExit: undefined,
      killedBecause: undefined,
      probing: false,
      timers: new Set(),
    };
    this.tracked.set(spec.name, item);
    return item;
  }

  /** A process that still runs from an earlier supervisor is taken over, never started twice. */
  private adoptOrStart(item: Tracked): void {
    const pid = this.runningFromPidFile(item.spec);
    if (pid === undefined) return this.start(item);
    item.report = { ...item.report, phase: 'starting', pid, adopted: true, since: new Date().toISOString() };
    item.startedAt = Date.now();
    this.log.info({ process: item.spec.name, pid }, 'adopted a running process');
    this.later(item, ADOPTED_POLL_MS, function poll(this: Supervisor) {
      if (item.report.pid !== pid || item.child) return;
      if (processControl.inspect(pid)) this.later(item, ADOPTED_POLL_MS, poll);
      else this.exited(item, 'exited (adopted from an earlier supervisor, so its exit status is unknown)');
    });
  }

  private runningFromPidFile(spec: SupervisedProcess): number | undefined {
    let pid: number;
    try {
      pid = Number(readFileSync(spec.pidFile, 'utf8').trim());
    } catch {
      return undefined;
    }
    if (!Number.isInteger(pid) || pid <= 1) return undefined;
    const info = processControl.inspect(pid);
    if (!info) return undefined;
    const command = info.cmdline.join(' ');
    if (!spec.match.cmdline.every((part) => command.includes(part))) return undefined;
    if (info.environ && Object.entries(spec.match.env).some(([key, value]) => info.environ?.[key] !== value)) return undefined;
    return pid;
  }

  private freshStart(item: Tracked): void {
    item.inARow = 0;
    item.report = { ...item.report, config: item.spec.config, exitsOnConfig: 0, logTail: null };
    this.start(item);
  }

  private start(item: Tracked): void {
    this.clearTimers(item);
    const { spec } = item;
    item.logOffset = appendLogHeader(spec.logFile, `supervisor: starting ${spec.name}: ${spec.command} ${spec.args.join(' ')}`);
    const fd = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      // Its own session: the process outlives this supervisor, as a color outlives a kill -9 of it.
      child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    item.child = child;
    item.startedAt = Date.now();
    item.lastReadyAt = undefined;
    item.killedBecause = undefined;
    const pid = child.pid ?? null;
    // Like systemd's StartupCPUWeight: a process starting (often a live color coming back, while
    // clients retry hard) gets the CPU first; its priority is normal again once it is ready.
    if (pid !== null && spec.probe) setNice(pid, STARTUP_NICE);
    item.report = {
      ...item.report,
      phase: spec.probe ? 'starting' : 'ready',
      pid,
      config: spec.config,
      adopted: false,
      since: new Date().toISOString(),
    };
    if (pid !== null) writeFileSync(spec.pidFile, `${pid}\n`);
    child.once('error', (error) => {
      if (item.child === child && pid === null) this.exited(item, `could not be started: ${error.message}`);
    });
    child.once('exit', (code, signal) => {
      if (item.child !== child) return;
      item.child = undefined;
      this.exited(item, signal ? `killed by ${signal}` : `exited with code ${code}`);
    });
    this.later(item, this.plan.policy.stableAfterMs, () => {
      if (item.child === child) item.inARow = 0;
    });
    this.log.info({ process: spec.name, pid }, 'started');
    this.writeStatus();
  }

  /** An exit: wanted (a replacement), or unexpected (back-off and restart, or failed). */
  private exited(item: Tracked, how: string): void {
    this.clearTimers(item);
    const wanted = item.onWantedExit;
    const reason = wanted ? `stopped on purpose (${how})` : item.killedBecause ? `${item.killedBecause}; ${how}` : how;
    const at = Date.now();
    rmSync(item.spec.pidFile, { force: true });
    // What is left of its process group (nginx's workers outlive a killed master and keep its port).
    if (item.report.pid !== null) killGroup(item.report.pid);
    item.report = {
      ...item.report,
      pid: null,
      exitsOnConfig: item.report.exitsOnConfig + 1,
      lastExit: { at: new Date(at).toISOString(), reason },
    };
    if (wanted) {
      item.onWantedExit = undefined;
      item.report = { ...item.report, phase: 'stopping' };
      this.writeStatus();
      wanted();
      return;
    }
    item.inARow += 1;
    const { policy } = this.plan;
    if (item.inARow > policy.maxRestarts) {
      const tail = logTail(item.spec.logFile, item.logOffset);
      item.report = { ...item.report, phase: 'failed', since: new Date(at).toISOString(), logTail: tail };
      this.log.error({ process: item.spec.name, reason, restartsInARow: item.inARow - 1 }, 'failed: not restarted again');
      this.recordRestart(item, 'failed', reason, null, 0);
      this.writeStatus();
      return;
    }
    const delay = backoffMs(item.inARow, policy.restartDelayMs, policy.maxRestartDelayMs);
    item.report = { ...item.report, phase: 'backoff', since: new Date(at).toISOString() };
    this.log.warn({ process: item.spec.name, reason, restartInMs: delay, attempt: item.inARow }, 'exited unexpectedly; restarting');
    this.writeStatus();
    this.later(item, delay, () => {
      item.report = { ...item.report, restarts: item.report.restarts + 1 };
      this.start(item);
      this.recordRestart(item, 'restarted', reason, item.report.pid, Date.now() - at);
    });
  }

  /** Stops a process on purpose (SIGTERM or its own signal, SIGKILL after a while); resolves once it is gone. */
  private stopWanted(item: Tracked): Promise<void> {
    this.clearTimers(item);
    const pid = item.report.pid;
    if (pid === null || !processControl.inspect(pid)) {
      item.report = { ...item.report, pid: null };
      return Promise.resolve();
    }
    item.report = { ...item.report, phase: 'stopping' };
    this.writeStatus();
    return new Promise((resolve) => {
      item.onWantedExit = resolve;
      processControl.signal(pid, item.spec.stopSignal);
      const deadline = Date.now() + REPLACE_STOP_MS;
      const watch = () => {
        if (!item.onWantedExit) return;
        if (!processControl.inspect(pid)) return item.child ? undefined : this.exited(item, 'stopped to be replaced');
        if (Date.now() > deadline) processControl.signal(pid, 'SIGKILL');
        setTimeout(watch, ADOPTED_POLL_MS);
      };
      setTimeout(watch, ADOPTED_POLL_MS);
    });
  }

  private probeAll(): void {
    for (const item of this.tracked.values()) {
      const { probe } = item.spec;
      const pid = item.report.pid;
      if (!probe || pid === null || item.probing || !['starting', 'ready', 'unready'].includes(item.report.phase)) continue;
      item.probing = true;
      const target = probe.socketPath ? { socketPath: probe.socketPath } : { host: probe.host ?? '127.0.0.1', port: probe.port ?? 0 };
      const timeoutMs = this.plan.policy.probeTimeoutMs;
      const check =
        probe.expect === 'any-answer'
          ? answersItself(target, probe.path, timeoutMs)
          : httpClient(target, { method: 'GET', path: probe.path, timeoutMs }).then(
              (answer) => (answer.status === 200 ? undefined : `answered ${answer.status}`),
              (error: Error) => error.message,
            );
      void check.then((problem) => {
        item.probing = false;
        if (item.report.pid !== pid) return;
        this.judgeProbe(item, pid, problem);
      });
    }
  }

  private judgeProbe(item: Tracked, pid: number, problem: string | undefined): void {
    const now = Date.now();
    if (problem === undefined) {
      item.lastReadyAt = now;
      // The whole group: nginx's workers were forked while its master still ran at STARTUP_NICE.
      if (item.report.phase === 'starting') setGroupNice(pid, 0);
      if (item.report.phase !== 'ready') {
        item.report = { ...item.report, phase: 'ready', since: new Date(now).toISOString() };
        this.writeStatus();
      }
      return;
    }
    if (item.report.phase === 'ready') {
      item.report = { ...item.report, phase: 'unready', since: new Date(now).toISOString() };
      this.writeStatus();
    }
    const { unreadyLimitMs, startGraceMs } = this.plan.policy;
    const unreadySince = item.lastReadyAt ?? item.startedAt + startGraceMs;
    if (now - unreadySince <= unreadyLimitMs || item.killedBecause) return;
    item.killedBecause = `unready for ${((now - unreadySince) / 1000).toFixed(1)} s (health probe ${item.spec.probe?.path}: ${problem})`;
    this.log.warn({ process: item.spec.name, pid, reason: item.killedBecause }, 'killing a hung process');
    processControl.signal(pid, 'SIGKILL');
  }

  private recordRestart(item: Tracked, outcome: 'restarted' | 'failed', exit: string, pid: number | null, durationMs: number): void {
    const entry = {
      schemaVersion: HISTORY_SCHEMA_VERSION,
      time: new Date().toISOString(),
      user: this.plan.user,
      backend: 'local',
      durationMs: Math.round(durationMs),
      command: 'restart',
      process: item.spec.name,
      outcome,
      exit,
      restarts: item.report.restarts,
      pid,
      ...(outcome === 'failed' && item.report.logTail
        ? { reason: `${exit}. Last lines of ${item.spec.logFile}:\n${item.report.logTail}` }
        : {}),
    } as const;
    this.historyWritten = this.historyWritten
      .then(() => this.history.append(entry))
      .then(
        () => undefined,
        (error: Error) => this.log.error({ error: error.message, where: this.history.where }, 'could not write the history'),
      );
  }

  private writeStatus(): void {
    try {
      writeJsonAtomic(this.plan.statusFile, {
        pid: process.pid,
        startedAt: this.startedAt,
        updatedAt: new Date().toISOString(),
        processes: Object.fromEntries([...this.tracked].map(([name, item]) => [name, item.report])),
      });
    } catch (error) {
      this.log.error({ error: (error as Error).message }, 'could not write the status file');
    }
  }

  private later(item: Tracked, ms: number, action: (this: Supervisor) => void): void {
    const timer = setTimeout(() => {
      item.timers.delete(timer);
      action.call(this);
    }, ms);
    item.timers.add(timer);
  }

  private clearTimers(item: Tracked): void {
    for (const timer of item.timers) clearTimeout(timer);
    item.timers.clear();
  }
}

/** Every process started detached leads its own group: SIGKILL to the group ends its leftovers. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // nothing left in the group
  }
}

/**
 * A router's own answer: a request without a Host header, which an HTTP/1.1 server (nginx)
 * refuses itself (400) without passing it on, so a hung color behind it never makes it look hung.
 * Resolves to undefined when it answered, else to what went wrong.
 */
function answersItself(
  target: { socketPath?: string; host?: string; port?: number },
  path: string,
  timeoutMs: number,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = target.socketPath ? connect(target.socketPath) : connect(target.port ?? 0, target.host ?? '127.0.0.1');
    let settled = false;
    const done = (problem: string | undefined) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    socket.once('data', (chunk: Buffer) => done(chunk.toString('latin1').startsWith('HTTP/1.') ? undefined : 'not an HTTP answer'));
    socket.once('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nConnection: close\r\n\r\n`));
  });
}

/** Linux's niceness is per thread: every thread of the process (threads started later inherit it). */
function setNice(pid: number, nice: number): void {
  let threads: number[] = [pid];
  try {
    threads = readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    // no /proc: the main thread only
  }
  for (const thread of threads) {
    try {
      setPriority(thread, nice);
    } catch {
      // not permitted (not root), or it has exited: it runs at normal priority
    }
  }
}

/** Every process of the group `pgid` (a supervised process is the leader of its own session), each thread. */
function setGroupNice(pgid: number, nice: number): void {
  for (const pid of new Set([pgid, ...groupMembers(pgid)])) setNice(pid, nice);
}

/** The processes whose process group is `pgid`, from /proc (none when it can not be read). */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  return entries.map(Number).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      // After "pid (comm) ": state ppid pgrp ...; comm may hold spaces and parentheses, so read after the last ')'.
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid;
    } catch {
      return false; // exited meanwhile
    }
  });
}

/** How often the logs are looked at, and what one may hold before it is rotated (one previous file is kept). */
const LOG_CHECK_MS = 30_000;
export const MAX_STACK_LOG_BYTES = 64 * 1024 * 1024;

/**
 * A supervised process's logs over `maxBytes`: its output (the descriptor the supervisor gave it,
 * O_APPEND) copy-truncated; the logs it writes itself (nginx's) renamed, and the process told to
 * reopen them. `signal` is for tests.
 */
export function rotateProcessLogs(
  spec: SupervisedProcess,
  pid: number | null,
  maxBytes = MAX_STACK_LOG_BYTES,
  signal: (pid: number, signal: NodeJS.Signals) => void = (target, name) => process.kill(target, name),
): { output: boolean; own: string[] } {
  const output = copyTruncateIfOver(spec.logFile, maxBytes);
  const own = spec.ownLogs ? renameIfOver(spec.ownLogs.files, maxBytes) : [];
  if (own.length > 0 && pid !== null && spec.ownLogs) signal(pid, spec.ownLogs.reopenSignal);
  return { output, own };
}

/** The file this process's stdout goes to (`up` starts the supervisor with its log as stdout), if it is one. */
function ownOutputFile(): string | undefined {
  try {
    const target = readlinkSync('/proc/self/fd/1');
    return target.startsWith('/') && statSync(target).isFile() ? target : undefined;
  } catch {
    return undefined;
  }
}
