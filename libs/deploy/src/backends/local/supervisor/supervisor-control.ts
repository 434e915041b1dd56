import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimeDeps } from '../../../effects/deps';
import { DeployError } from '../../../errors';
import type { DeploymentSpec } from '../../../spec/deployment-spec';
import type { StoppedProcess } from '../../backend';
import { REPLICA_ENV_MARKER, STACK_ENV_MARKER, SUPERVISOR, type StackLayout, type SupervisedName, replicaName } from '../layout';
import { LOCAL_NGINX_FILES } from '../../../render/nginx/nginx-site';
import { NGINX_CONF, ROUTER_HOST, nginxArgs } from '../nginx/nginx-process';
import { DEFAULT_STOP_TIMEOUT_MS, type ProcessCheck, readPidFile, removePidFile, stopProcess, writePidFile } from '../stack/processes';
import { type ColorLaunch, type Started, appendLogHeader, colorEnv, logTail } from '../services/color-service';
import {
  type ProcessReport,
  type SupervisedProcess,
  type SupervisorPlan,
  type SupervisorPolicy,
  type SupervisorStatus,
  readPlan,
  readSupervisorStatus,
  writePlan,
} from './supervisor-files';

/** How long one probe of the supervisor may take (a hung color never answers). */
const PROBE_TIMEOUT_MS = 1_000;
/** How long the CLI waits for the supervisor to report a process it asked for. */
const SUPERVISOR_REPORT_MS = 20_000;
const POLL_MS = 50;

/**
 * The supervisor's entry: the TypeScript source, run like the CLI (`node -r @swc-node/register`),
 * or the built .js beside this file.
 */
function supervisorCommand(layout: StackLayout): { args: string[]; env: Record<string, string> } {
  const main = join(__dirname, `supervisor-main${__filename.endsWith('.ts') ? '.ts' : '.js'}`);
  if (!main.endsWith('.ts')) return { args: [main, layout.supervisorPlanFile], env: {} };
  return {
    args: ['-r', '@swc-node/register', main, layout.supervisorPlanFile],
    env: { SWC_NODE_PROJECT: join(layout.workspaceRoot, 'libs/deploy/tsconfig.lib.json') },
  };
}

/** The supervisor's policy from the spec. */
export function supervisorPolicy(spec: DeploymentSpec): SupervisorPolicy {
  return { ...spec.supervisor, probeTimeoutMs: PROBE_TIMEOUT_MS };
}

/** What identifies a replica's run: a release changes it (a new model), a partial `up` keeps it. */
export function colorConfig(launch: ColorLaunch): string {
  return JSON.stringify({ model: launch.model.path, port: launch.port, replica: launch.replica, service: launch.service });
}

/**
 * One replica of a color as a supervised process of its own (it is restarted on its own):
 * `node <the stack's copy of the service>`, probed on its socket.
 */
export function colorProcess(deps: RuntimeDeps, layout: StackLayout, launch: ColorLaunch): SupervisedProcess {
  const name = replicaName(launch.color, launch.replica);
  return {
    name,
    command: deps.nodeBinary,
    args: [layout.serviceMain],
    cwd: layout.workspaceRoot,
    env: colorEnv(deps, layout, launch),
    logFile: layout.logFile(name),
    pidFile: layout.pidFile(name),
    stopSignal: 'SIGTERM',
    match: {
      cmdline: [layout.serviceMain],
      env: { [STACK_ENV_MARKER]: layout.stateDir, COLOR: launch.color, [REPLICA_ENV_MARKER]: String(launch.replica) },
    },
    config: colorConfig(launch),
    probe: { socketPath: layout.replicaSocket(launch.color, launch.replica), path: '/health', expect: 'ok' },
  };
}

/** nginx in the foreground (its pid is the master's), probed on its port: any answer means it routes. */
export function nginxProcess(deps: RuntimeDeps, nginx: string, layout: StackLayout, port: number): SupervisedProcess {
  const env = Object.fromEntries(Object.entries(deps.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return {
    name: 'nginx',
    command: nginx,
    args: [...nginxArgs(layout), '-g', 'daemon off;'],
    cwd: layout.nginxPrefix,
    env,
    logFile: layout.logFile('nginx'),
    pidFile: layout.pidFile('nginx'),
    stopSignal: 'SIGQUIT',
    match: { cmdline: ['nginx', `-p ${layout.nginxPrefix}/`], env: {} },
    config: JSON.stringify({ nginx, conf: join(layout.nginxPrefix, NGINX_CONF), port }),
    probe: { host: ROUTER_HOST, port, path: '/health', expect: 'any-answer' },
    // Its access and error logs (in its prefix): renamed when over their cap, then reopened.
    ownLogs: {
      files: [LOCAL_NGINX_FILES.accessLog, LOCAL_NGINX_FILES.errorLog].map((file) => join(layout.nginxPrefix, file)),
      reopenSignal: 'SIGUSR1',
    },
  };
}

export function supervisorPlan(
  deps: RuntimeDeps,
  layout: StackLayout,
  policy: SupervisorPolicy,
  processes: readonly SupervisedProcess[],
): SupervisorPlan {
  return {
    historyFile: layout.historyFile,
    statusFile: layout.supervisorStatusFile,
    user: deps.userName,
    policy,
    processes: [...processes],
  };
}

/** The plan the supervisor runs now. @throws DeployError STACK_NOT_RUNNING when there is none */
export function currentPlan(layout: StackLayout): SupervisorPlan {
  try {
    return readPlan(layout.supervisorPlanFile);
  } catch (error) {
    throw new DeployError(
      'STACK_NOT_RUNNING',
      `The supervisor's plan ${layout.supervisorPlanFile} can not be read (${(error as Error).message}).`,
    );
  }
}

/** The plan with one process replaced (or added). Pure. */
export function withProcess(plan: SupervisorPlan, next: SupervisedProcess): SupervisorPlan {
  const others = plan.processes.filter((item) => item.name !== next.name);
  return { ...plan, processes: [...others, next] };
}

/** Whether the supervisor's pid file names this stack's live supervisor. */
export function checkSupervisor(deps: RuntimeDeps, layout: StackLayout): ProcessCheck {
  const file = readPidFile(layout.pidFile(SUPERVISOR));
  if (file.kind === 'missing') return { kind: 'none' };
  if (file.kind === 'invalid') return { kind: 'invalid-pid-file', text: file.text };
  const info = deps.processes.inspect(file.pid);
  if (!info) return { kind: 'dead', pid: file.pid };
  const command = info.cmdline.join(' ');
  if (!command.includes('supervisor-main') || !command.includes(layout.supervisorPlanFile))
    return { kind: 'not-ours', pid: file.pid, command: command.slice(0, 120) };
  return { kind: 'running', pid: file.pid };
}

/** Writes the plan and starts the supervisor detached (it starts or adopts each process of the plan). */
export function startSupervisor(deps: RuntimeDeps, layout: StackLayout, plan: SupervisorPlan): number {
  writePlan(layout.supervisorPlanFile, plan);
  const command = supervisorCommand(layout);
  appendLogHeader(layout.logFile(SUPERVISOR), `deploy: starting the supervisor`);
  const pid = deps.processes.spawnDetached({
    command: deps.nodeBinary,
    args: command.args,
    cwd: layout.workspaceRoot,
    env: { ...deps.env, ...command.env },
    logFile: layout.logFile(SUPERVISOR),
  });
  writePidFile(layout.pidFile(SUPERVISOR), pid);
  return pid;
}

/** Writes the plan and asks the running supervisor to follow it (SIGHUP). */
export function updatePlan(deps: RuntimeDeps, layout: StackLayout, plan: SupervisorPlan): void {
  const check = checkSupervisor(deps, layout);
  if (check.kind !== 'running') {
    throw new DeployError(
      'STACK_NOT_RUNNING',
      `The stack's supervisor is not running (${check.kind}${'pid' in check ? `, pid ${check.pid}` : ''}).`,
      {
        hint: 'Run `npx nx run deploy:up`: it starts a new supervisor, which adopts the processes that still run.',
      },
    );
  }
  writePlan(layout.supervisorPlanFile, plan);
  deps.processes.signal(check.pid, 'SIGHUP');
}

/** The supervisor first (it must not restart what `down` stops), then nothing else: the caller stops the rest. */
export async function stopSupervisor(deps: RuntimeDeps, layout: StackLayout): Promise<StoppedProcess> {
  const file = layout.pidFile(SUPERVISOR);
  const check = checkSupervisor(deps, layout);
  if (check.kind === 'none') return { name: SUPERVISOR, pid: null, result: 'no pid file' };
  if (check.kind !== 'running') {
    removePidFile(file);
    return {
      name: SUPERVISOR,
      pid: 'pid' in check ? check.pid : null,
      result: check.kind === 'not-ours' ? 'not ours, left alone' : 'was not running',
    };
  }
  const result = await stopProcess(deps, check.pid, () => true, {
    label: SUPERVISOR,
    signal: 'SIGTERM',
    timeoutMs: DEFAULT_STOP_TIMEOUT_MS,
    progress: deps.progress,
    keepChildren: true,
  });
  if (result.kind !== 'survived') removePidFile(file);
  const outcome: StoppedProcess['result'] =
    result.kind === 'stopped'
      ? 'stopped'
      : result.kind === 'killed'
        ? 'killed'
        : result.kind === 'survived'
          ? 'survived SIGKILL'
          : 'was not running';
  return { name: SUPERVISOR, pid: check.pid, result: outcome, ...('ms' in result ? { ms: result.ms } : {}) };
}

/** Each log's size now: where the output of a start that follows begins. */
export function logOffsets<N extends SupervisedName>(layout: StackLayout, names: readonly N[]): Map<N, number> {
  return new Map(names.map((name) => [name, existsSync(layout.logFile(name)) ? statSync(layout.logFile(name)).size : 0]));
}

/**
 * Waits until the supervisor reports each named process running on the given config (a new pid
 * when `not` names the old one).
 * @throws DeployError START_FAILED when the supervisor dies or does not report in time
 */
export async function awaitSupervised<N extends SupervisedName>(
  deps: RuntimeDeps,
  layout: StackLayout,
  wanted: readonly { readonly name: N; readonly config: string; readonly not?: number }[],
  offsets: ReadonlyMap<N, number>,
  /** When the supervisor was started or signalled. */
  since: number,
): Promise<(Omit<Started, 'name'> & { readonly name: N })[]> {
  const begin = deps.clock.now();
  for (;;) {
    // Only what the running supervisor wrote since it was asked: an earlier status file names old pids.
    const supervisor = checkSupervisor(deps, layout);
    const written = readSupervisorStatus(layout.supervisorStatusFile);
    const status =
      written && supervisor.kind === 'running' && written.pid === supervisor.pid && Date.parse(written.updatedAt) >= since - 1
        ? written
        : undefined;
    const found = wanted.map((item) => {
      const report = status?.processes[item.name];
      return report && report.config === item.config && report.pid !== null && report.pid !== item.not && report.phase !== 'stopping'
        ? report.pid
        : undefined;
    });
    if (found.every((pid) => pid !== undefined)) {
      return wanted.map((item, index) => ({
        name: item.name,
        pid: found[index] as number,
        logFile: layout.logFile(item.name),
        logOffset: offsets.get(item.name) ?? 0,
      }));
    }
    const failed = wanted.find(
      (item) => status?.processes[item.name]?.phase === 'failed' && status.processes[item.name]?.config === item.config,
    );
    if (failed) {
      const report = status?.processes[failed.name] as ProcessReport;
      throw new DeployError(
        'START_FAILED',
        `${failed.name} failed: ${report.lastExit?.reason ?? 'unknown'}.\nLast lines of ${layout.logFile(failed.name)}:\n${report.logTail ?? ''}`,
      );
    }
    if (supervisor.kind !== 'running') {
      throw new DeployError(
        'START_FAILED',
        `The supervisor exited while starting the stack.\nLast lines of ${layout.logFile(SUPERVISOR)}:\n${logTail(layout.logFile(SUPERVISOR), 0)}`,
      );
    }
    if (deps.clock.now() - begin > SUPERVISOR_REPORT_MS) {
      throw new DeployError(
        'START_FAILED',
        `The supervisor did not report ${wanted.map((item) => item.name).join(', ')} within ${SUPERVISOR_REPORT_MS / 1000} s (see ${layout.logFile(SUPERVISOR)}).`,
      );
    }
    await deps.clock.sleep(POLL_MS);
  }
}

/**
 * Waits until the supervisor's own probe has seen each started process ready (the CLI's probe may
 * be a probe interval ahead): only from then on is a hang caught within `unreadyLimitMs`; before,
 * the start grace (`startGraceMs`) applies. Called before `up` or `release` says it is done.
 * Bounded by two probes; a process that died meanwhile is the supervisor's to restart (and
 * `status` shows it), so this never fails a command.
 */
export async function awaitSupervisorReady(
  deps: RuntimeDeps,
  layout: StackLayout,
  started: readonly { readonly name: SupervisedName; readonly pid: number }[],
): Promise<void> {
  let policy: SupervisorPolicy;
  try {
    policy = readPlan(layout.supervisorPlanFile).policy;
  } catch {
    return;
  }
  const deadline = deps.clock.now() + 2 * (policy.probeIntervalMs + policy.probeTimeoutMs);
  while (deps.clock.now() < deadline) {
    const status = readSupervisorStatus(layout.supervisorStatusFile);
    if (started.every((item) => status?.processes[item.name]?.pid === item.pid && status.processes[item.name]?.phase === 'ready')) return;
    await deps.clock.sleep(POLL_MS);
  }
}

/** What the supervisor reports, for `status`: every process's phase, restarts and last exit. */
export interface SupervisorView {
  readonly process: ProcessCheck['kind'];
  readonly pid: number | null;
  readonly processes: SupervisorStatus['processes'];
}

export function supervisorView(deps: RuntimeDeps, layout: StackLayout): SupervisorView {
  const check = checkSupervisor(deps, layout);
  const status = readSupervisorStatus(layout.supervisorStatusFile);
  return { process: check.kind, pid: 'pid' in check ? check.pid : null, processes: status?.processes ?? {} };
}
