import { Color, LOG_LEVELS, LogLevel, SERVICE_ENV_DEFAULTS, otherColor } from '@mlbg/contract';
import { chmodSync, existsSync, lstatSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import type { DeploymentSpec } from '../../../spec/deployment-spec';
import { loadDeploymentSpec } from '../../../spec/load';
import { applyOverrides } from '../../../spec/overrides';
import { DeploymentSpecError } from '../../../spec/spec-error';
import type { RuntimeDeps } from '../../../effects/deps';
import { DeployError } from '../../../errors';
import { SUPERVISOR, type StackLayout, type StackProcess, httpUrl, replicaName, replicaOf, stackProcesses, stackReplicas } from '../layout';
import {
  DEFAULT_STOP_TIMEOUT_MS,
  type ProcessCheck,
  checkProcess,
  isStackProcess,
  processesWithPidFiles,
  readPidFile,
  removePidFile,
  stopProcess,
} from './processes';
import {
  NGINX_CONF,
  ROUTER_HOST,
  type RouterPortChoice,
  chooseRouterPort,
  explainBind,
  probeRouter,
  requireNginx,
  routerPortCandidates,
  saveNginxLogs,
  writeAndTestNginxConf,
} from '../nginx/nginx-process';
import { readLink, writeRouteLinks } from '../nginx/route-links';
import {
  awaitSupervised,
  awaitSupervisorReady,
  checkSupervisor,
  currentPlan,
  colorProcess,
  logOffsets,
  nginxProcess,
  startSupervisor,
  stopSupervisor,
  supervisorPolicy,
  supervisorPlan,
  updatePlan,
} from '../supervisor/supervisor-control';
import type { SupervisedProcess } from '../supervisor/supervisor-files';
import { stopShadowRelay } from '../shadow/shadow';
import {
  type AwaitedProcess,
  type ColorFacts,
  type ColorLaunch,
  DEFAULT_START_TIMEOUT_MS,
  type ModelFile,
  SERVICE_HOST,
  type Started,
  colorRun,
  copyServiceBuild,
  removeServiceCopy,
  logTail,
  probeReplica,
  requireServiceBuilt,
  resolveModel,
  waitUntilReady,
} from '../services/color-service';
import { type RunningStack, type StackState, initialState, readState, writeState } from './state';
import { localStatus } from './status';
import type { DownResult, ModelSource, StartedColor, StartedReplica, StoppedProcess, UpRequest, UpResult } from '../../backend';
import { soleTarget } from '../../../routing/routes';
import { INITIAL_LIVE_COLOR } from '../../../spec/sockets';

/** The spec with the port overrides; its errors become SPEC_INVALID. */
export function loadSpec(layout: StackLayout, ports: UpRequest['ports'] = {}): DeploymentSpec {
  try {
    return applyOverrides(loadDeploymentSpec(layout.specFile), ports);
  } catch (error) {
    if (error instanceof DeploymentSpecError) throw new DeployError('SPEC_INVALID', error.message, { hint: error.hint });
    throw error;
  }
}

/**
 * `deploy:up`: starts both colors and nginx, or says the stack is already up and changes nothing.
 * On failure stops what it started and says why, with the failing process's last log lines.
 */
export async function stackUp(deps: RuntimeDeps, layout: StackLayout, request: UpRequest): Promise<UpResult> {
  const begin = deps.clock.now();
  const spec = loadSpec(layout, request.ports);
  requireServiceBuilt(layout);
  const nginx = requireNginx(deps);
  const state = readStateForUp(layout);
  const expected = stackProcesses(state.running?.replicas ?? spec.replicas.perColor);
  const checks = inspectStack(deps, layout, [...new Set([...expected, ...processesWithPidFiles(layout)])]);
  const supervisor = checkSupervisor(deps, layout);
  const alive = [...checks].filter(([, check]) => check.kind === 'running').map(([name]) => name);
  if (state.running && (alive.length > 0 || supervisor.kind === 'running')) {
    if (expected.every((name) => alive.includes(name)) && supervisor.kind === 'running')
      return { kind: 'already-up', status: await localStatus(deps, layout) };
    return repairStack(deps, layout, { spec, nginx, state: { ...state, running: state.running }, checks, supervisor, begin, request });
  }
  if (alive.length > 0) {
    throw new DeployError('ALREADY_PARTLY_RUNNING', `${describeChecks(checks)}, and the state file records no running stack.`);
  }
  const notes = await cleanUpEarlierStack(deps, layout, state, checks, supervisor);
  return startStack(deps, layout, { spec, nginx, state, request, begin, notes });
}

/** The state file for `up` (a fresh one when there is none), with the folders `up` writes into. */
function readStateForUp(layout: StackLayout): StackState {
  mkdirSync(layout.pidDir, { recursive: true });
  mkdirSync(layout.logDir, { recursive: true });
  const read = readState(layout.stateFile);
  if (read.kind === 'corrupt') throw new DeployError('STATE_CORRUPT', `${read.file}: ${read.problem}.`);
  return read.kind === 'ok' ? read.state : initialState();
}

/** Removes what a stack that no longer runs left behind (pid files, runtime folder, a lone supervisor); says what it did. */
async function cleanUpEarlierStack(
  deps: RuntimeDeps,
  layout: StackLayout,
  state: StackState,
  checks: ReadonlyMap<StackProcess, ProcessCheck>,
  supervisor: ProcessCheck,
): Promise<string[]> {
  const notes: string[] = [];
  const leftovers = [...checks].filter(([, check]) => check.kind !== 'none');
  // A supervisor left without a recorded stack would start its old plan beside the new one.
  if (supervisor.kind === 'running')
    notes.push(`Stopped a supervisor left from an earlier stack (${(await stopSupervisor(deps, layout)).result}).`);
  if (supervisor.kind !== 'none') removePidFile(layout.pidFile(SUPERVISOR));
  if (leftovers.length > 0 || existsSync(layout.runtimeDir) || state.running) {
    for (const name of [...checks.keys(), SUPERVISOR] as const) removePidFile(layout.pidFile(name));
    removeRuntimeDir(deps, layout);
    notes.push(
      `Cleaned up after a stack that is no longer running (${leftovers.map(([name, check]) => `${name}: ${describeCheck(check)}`).join(', ') || 'no processes'}).`,
    );
  }
  return notes;
}

interface FreshStart {
  readonly spec: DeploymentSpec;
  readonly nginx: string;
  readonly state: StackState;
  readonly request: UpRequest;
  readonly begin: number;
  readonly notes: readonly string[];
}

/** A color to start: how (its replica 1; the others differ only in their number), and where its model came from. */
interface ColorStart {
  readonly launch: ColorLaunch;
  readonly source: ModelSource;
}

/** Every replica's launch, color by color. */
function replicaLaunches(colors: Record<Color, { readonly launch: ColorLaunch }>, replicas: number): ColorLaunch[] {
  return stackReplicas(replicas).map(({ color, replica }) => ({ ...colors[color].launch, replica }));
}

/** Starts a stack where nothing runs: checks the ports, writes the files, starts the supervisor, waits until all is healthy. */
async function startStack(deps: RuntimeDeps, layout: StackLayout, fresh: FreshStart): Promise<UpResult> {
  const { spec, state, request } = fresh;
  const service: RunningStack['service'] = {
    logLevel: serviceLogLevel(request.logLevel),
    bodyLimitBytes: spec.limits.bodyLimitBytes,
    maxBatchRows: spec.limits.maxBatchRows,
  };
  const colors: Record<Color, ColorStart> = {
    blue: colorStart(layout, spec, state, request, service, 'blue'),
    green: colorStart(layout, spec, state, request, service, 'green'),
  };
  await requireColorPortsFree(deps, colors);
  const router = await chooseStackRouterPort(deps, spec, request, colors);
  const live = soleTarget(state.routes.live) ?? INITIAL_LIVE_COLOR;
  const notes = [
    ...fresh.notes,
    ...(router.note ? [router.note] : []),
    ...(live === INITIAL_LIVE_COLOR ? [] : [`${live} is live, as it was when the stack last ran (switch with deploy:switch).`]),
  ];
  const startedAt = new Date(deps.clock.now()).toISOString();
  const replicas = spec.replicas.perColor;
  const launches = replicaLaunches(colors, replicas);
  const running: RunningStack = {
    startedAt,
    runtimeDir: layout.runtimeDir,
    socketDir: layout.socketDir,
    nginxPrefix: layout.nginxPrefix,
    router: { host: ROUTER_HOST, port: router.port, requestedPort: spec.router.port },
    previewPathPrefix: spec.preview.pathPrefix,
    liveSlots: spec.canary.slots,
    replicas,
    service,
    colors: {
      blue: colorRun(colors.blue.launch, undefined, startedAt),
      green: colorRun(colors.green.launch, undefined, startedAt),
    },
  };
  try {
    await prepareFiles(deps, layout, { nginx: fresh.nginx, spec, routes: state.routes, routerPort: router.port });
    // Written before anything starts, so `down` knows about a stack interrupted while starting.
    writeState(layout.stateFile, { ...state, running });
    const started = await startSupervised(deps, layout, { spec, nginx: fresh.nginx, launches, routerPort: router.port });
    const facts = await awaitHealthy(deps, layout, started, {
      router: { port: router.port, live, previewPathPrefix: spec.preview.pathPrefix },
      launches,
      timeoutMs: request.timeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    });
    const withFacts = (color: Color) => colorRun(colors[color].launch, facts[color], startedAt);
    writeState(layout.stateFile, { ...state, running: { ...running, colors: { blue: withFacts('blue'), green: withFacts('green') } } });

    const startedColor = (color: Color) => {
      const { launch, source } = colors[color];
      const run = { pid: pidOf(started, color), port: launch.port, model: launch.model.display, modelSource: source };
      return describeStartedColor(color, run, facts[color], replicaPids(started, color, replicas));
    };
    return startedResult(layout, {
      routes: state.routes,
      live,
      router: { host: ROUTER_HOST, port: router.port },
      previewPathPrefix: spec.preview.pathPrefix,
      nginxPid: pidOf(started, 'nginx'),
      colors: { blue: startedColor('blue'), green: startedColor('green') },
      notes,
      durationMs: deps.clock.now() - fresh.begin,
    });
  } catch (error) {
    deps.progress('Stopping what this command started...');
    await stopAll(deps, layout, DEFAULT_STOP_TIMEOUT_MS);
    removeRuntimeDir(deps, layout);
    writeState(layout.stateFile, { ...state, running: null });
    throw error;
  }
}

/** nginx's port: the spec's (or --router-port), else the first free fallback when it was not given explicitly. */
async function chooseStackRouterPort(
  deps: RuntimeDeps,
  spec: DeploymentSpec,
  request: UpRequest,
  colors: Record<Color, ColorStart>,
): Promise<RouterPortChoice> {
  const explicit = request.ports.routerPort !== undefined;
  const taken = Color.options.map((color) => colors[color].launch.port);
  return chooseRouterPort(deps, routerPortCandidates(spec.router.port, explicit, taken), explicit);
}

/** Starts the supervisor on a plan of every replica and nginx; what it started, by name, once it reports them. */
async function startSupervised(
  deps: RuntimeDeps,
  layout: StackLayout,
  stack: { readonly spec: DeploymentSpec; readonly nginx: string; readonly launches: readonly ColorLaunch[]; readonly routerPort: number },
): Promise<ReadonlyMap<StackProcess, Started>> {
  const processes = [
    ...stack.launches.map((launch) => colorProcess(deps, layout, launch)),
    nginxProcess(deps, stack.nginx, layout, stack.routerPort),
  ];
  const entries = stackEntries(processes);
  const offsets = logOffsets(
    layout,
    entries.map((entry) => entry.name),
  );
  const since = deps.clock.now();
  const supervisorPid = startSupervisor(deps, layout, supervisorPlan(deps, layout, supervisorPolicy(stack.spec), processes));
  const started = startedByName(await awaitSupervised(deps, layout, entries, offsets, since), stack.spec.replicas.perColor);
  deps.progress(
    `Started ${[...started.values()].map((item) => `${item.name} (pid ${item.pid})`).join(', ')} under the supervisor (pid ${supervisorPid}); waiting until they are healthy...`,
  );
  return started;
}

/** The colors' log level: --log-level, or the service's default. @throws DeployError USAGE for an unknown level */
function serviceLogLevel(requested: string | undefined): LogLevel {
  const parsed = LogLevel.safeParse(requested ?? SERVICE_ENV_DEFAULTS.LOG_LEVEL);
  if (!parsed.success) throw new DeployError('USAGE', `--log-level must be one of ${LOG_LEVELS.join(', ')}, not "${requested}".`);
  return parsed.data;
}

/** A color's model: the --<color>-model flag, else the one last released to it, else the spec's. */
function colorStart(
  layout: StackLayout,
  spec: DeploymentSpec,
  state: StackState,
  request: UpRequest,
  service: RunningStack['service'],
  color: Color,
): ColorStart {
  const flag = request.models[color];
  const released = state.models[color];
  const [path, source]: [string, ModelSource] = flag
    ? [flag, 'flag']
    : released
      ? [released, 'last release']
      : [spec.colors[color].model, 'spec'];
  const model: ModelFile = resolveModel(layout.workspaceRoot, path, `${color}'s model (from the ${source})`);
  return { launch: { color, replica: 1, model, port: spec.colors[color].port, service }, source };
}

/** @throws DeployError PORT_UNAVAILABLE when a color's port can not be bound */
async function requireColorPortsFree(deps: RuntimeDeps, colors: Record<Color, ColorStart>): Promise<void> {
  for (const color of Color.options) {
    const { port } = colors[color].launch;
    const bind = await deps.canBind(port, SERVICE_HOST);
    if (!bind.ok) {
      throw new DeployError('PORT_UNAVAILABLE', `${color}'s port ${port} ${explainBind(bind)}.`, {
        hint: `Stop what listens on ${port}, or pass --${color}-port (or BLUEGREEN_${color.toUpperCase()}_PORT).`,
      });
    }
  }
}

/** What must exist before a process starts: the runtime folder, the stack's copy of the service, the route links, nginx's tested config. */
async function prepareFiles(
  deps: RuntimeDeps,
  layout: StackLayout,
  files: { readonly nginx: string; readonly spec: DeploymentSpec; readonly routes: StackState['routes']; readonly routerPort: number },
): Promise<void> {
  prepareRuntimeDir(deps, layout);
  copyServiceBuild(layout);
  writeRouteLinks(layout, files.routes, files.spec.canary.slots);
  await writeAndTestNginxConf(deps, files.nginx, layout, files.spec, files.routerPort);
}

/** The stack's own processes of a plan (a plan may also hold the shadow relay), as `awaitSupervised` wants them. */
function stackEntries(processes: readonly SupervisedProcess[]): { name: StackProcess; config: string }[] {
  return processes
    .filter((item): item is SupervisedProcess & { name: StackProcess } => item.name === 'nginx' || replicaOf(item.name) !== undefined)
    .map((item) => ({ name: item.name, config: item.config }));
}

/**
 * The started processes by name.
 * @throws DeployError START_FAILED when the plan lacks one of the stack's processes
 */
function startedByName(
  started: readonly (Omit<Started, 'name'> & { readonly name: string })[],
  replicas: number,
): ReadonlyMap<StackProcess, Started> {
  const byName = new Map<StackProcess, Started>();
  for (const name of stackProcesses(replicas)) {
    const found = started.find((item) => item.name === name);
    if (!found)
      throw new DeployError('START_FAILED', `The supervisor's plan has no ${name}; \`deploy:down\` then \`deploy:up\` starts afresh.`);
    byName.set(name, { ...found, name });
  }
  return byName;
}

/** The pid of a started process. */
function pidOf(started: ReadonlyMap<StackProcess, Started>, name: StackProcess): number {
  const found = started.get(name);
  if (!found) throw new Error(`${name} was not started`);
  return found.pid;
}

/** Every replica of a color with its pid, for `up`'s result. */
function replicaPids(started: ReadonlyMap<StackProcess, Started>, color: Color, replicas: number): StartedReplica[] {
  return Array.from({ length: replicas }, (_, index) => {
    const name = replicaName(color, index + 1);
    return { name, pid: started.get(name)?.pid ?? null };
  });
}

/**
 * Waits until every replica and nginx answer; what each color (its replica 1) said about itself.
 * @throws DeployError START_FAILED when one exits or is not healthy in time, with its last log lines
 */
async function awaitHealthy(
  deps: RuntimeDeps,
  layout: StackLayout,
  started: ReadonlyMap<StackProcess, Started>,
  expect: {
    readonly router: { readonly port: number; readonly live: Color; readonly previewPathPrefix: string };
    readonly launches: readonly ColorLaunch[];
    readonly timeoutMs: number;
  },
): Promise<Record<Color, ColorFacts>> {
  const { router } = expect;
  const startedAs = (name: StackProcess): Started => {
    const found = started.get(name);
    if (!found) throw new Error(`${name} was not started`);
    return found;
  };
  const items: AwaitedProcess<ColorFacts | true>[] = [
    ...expect.launches.map((launch) => ({
      started: startedAs(replicaName(launch.color, launch.replica)),
      probe: () => probeReplica(deps, layout, launch),
    })),
    { started: startedAs('nginx'), probe: () => probeRouter(deps, router.port, router.live, router.previewPathPrefix) },
  ];
  const ready = await waitUntilReady(deps, items, expect.timeoutMs);
  if (!ready.ok) throw startFailure(layout, ready.failed, ready.reason);
  await awaitSupervisorReady(deps, layout, [...started.values()]);
  const facts = (color: Color): ColorFacts => {
    const found = ready.facts.get(color);
    if (found === undefined || found === true) throw new Error(`no health facts for ${color}`);
    return found;
  };
  return { blue: facts('blue'), green: facts('green') };
}

function startFailure(layout: StackLayout, failed: Started, reason: string): DeployError {
  let detail = `${reason}.\nLast lines of ${failed.logFile}:\n${logTail(failed.logFile, failed.logOffset)}`;
  if (failed.name === 'nginx') detail += `\nnginx's error log:\n${logTail(join(layout.nginxPrefix, 'error.log'), 0)}`;
  return new DeployError('START_FAILED', detail);
}

/** Each named stack process as its pid file and the system see it. */
export function inspectStack(deps: RuntimeDeps, layout: StackLayout, names: readonly StackProcess[]): Map<StackProcess, ProcessCheck> {
  return new Map(names.map((name) => [name, checkProcess(deps.processes, layout, name)]));
}

/** `nginx: running (pid 12); blue: ...` */
function describeChecks(checks: ReadonlyMap<StackProcess, ProcessCheck>): string {
  return [...checks].map(([name, check]) => `${name}: ${describeCheck(check)}`).join('; ');
}

export function describeCheck(check: ProcessCheck): string {
  switch (check.kind) {
    case 'none':
      return 'not started (no pid file)';
    case 'invalid-pid-file':
      return `unreadable pid file ("${check.text}")`;
    case 'dead':
      return `pid ${check.pid} has exited`;
    case 'not-ours':
      return `pid ${check.pid} is now another program (${check.command})`;
    case 'running':
      return `running (pid ${check.pid})`;
    default: {
      const unreachable: never = check;
      return unreachable;
    }
  }
}

/**
 * Creates the runtime folder fresh (sockets and nginx's prefix), traversable by nginx's workers.
 * @throws DeployError RUNTIME_DIR_UNSAFE when a folder above it is closed to others while we are root
 */
export function prepareRuntimeDir(deps: RuntimeDeps, layout: StackLayout): void {
  removeRuntimeDir(deps, layout);
  if (existsSync(layout.runtimeDir))
    throw new DeployError('RUNTIME_DIR_UNSAFE', `${layout.runtimeDir} exists and is not this user's folder.`);
  mkdirSync(dirname(layout.runtimeDir), { recursive: true });
  for (const dir of [layout.runtimeDir, layout.socketDir, layout.nginxPrefix, ...Color.options.map((color) => layout.colorFolder(color))]) {
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755); // whatever the umask: nginx's workers must traverse it
  }
  if (deps.uid === 0) {
    for (let dir = dirname(layout.runtimeDir); ; dir = dirname(dir)) {
      if ((statSync(dir).mode & 0o001) === 0) {
        throw new DeployError(
          'RUNTIME_DIR_UNSAFE',
          `nginx's workers run as \`nobody\` (the master runs as root) and can not traverse ${dir} (mode ${(statSync(dir).mode & 0o777).toString(8)}), which holds ${layout.socketDir}.`,
        );
      }
      if (dir === parse(dir).root) break;
    }
  }
}

/** Removes the runtime folder if it is this user's (never follows a symlink planted in its place). */
export function removeRuntimeDir(deps: RuntimeDeps, layout: StackLayout): boolean {
  let stat;
  try {
    stat = lstatSync(layout.runtimeDir);
  } catch {
    return false;
  }
  if (!stat.isDirectory() || (deps.uid >= 0 && stat.uid !== deps.uid)) return false;
  rmSync(layout.runtimeDir, { recursive: true, force: true });
  return true;
}

/**
 * `deploy:down`: stops exactly what `up` started (from the pid files, so it works without a state
 * file), removes the sockets and the runtime folder, keeps the last live color and released
 * models for the next `up` (unless `reset`). Idempotent.
 * @throws DeployError STOP_FAILED when a process survives SIGKILL
 */
export async function stackDown(
  deps: RuntimeDeps,
  layout: StackLayout,
  options: { reset?: boolean; timeoutMs?: number } = {},
): Promise<DownResult> {
  if (!existsSync(layout.stateDir) && !existsSync(layout.runtimeDir)) {
    return {
      kind: 'nothing',
      processes: [],
      removedRuntimeDir: false,
      notes: [`There is no state folder at ${layout.stateDir}: nothing was started from it.`],
    };
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  const processes = await stopAll(deps, layout, timeoutMs);
  // Shadow traffic's relay, when `deploy:shadow on` started one (backends/local/shadow.ts).
  const relay = await stopShadowRelay(deps, layout, timeoutMs);
  if (relay) processes.push(relay);

  const notes: string[] = [];
  if (existsSync(layout.logDir)) saveNginxLogs(layout);
  const removedRuntimeDir = removeRuntimeDir(deps, layout);
  if (processes.every((item) => item.result !== 'survived SIGKILL') && removeServiceCopy(layout) === 'not ours')
    notes.push(`Left ${layout.serviceCopyDir} alone: it was not made by deploy:up.`);
  if (!removedRuntimeDir && existsSync(layout.runtimeDir)) notes.push(`Left ${layout.runtimeDir} alone: it is not this user's folder.`);

  const read = readState(layout.stateFile);
  if (read.kind === 'corrupt') {
    const aside = `${layout.stateFile}.corrupt-${new Date(deps.clock.now()).toISOString().replace(/[:.]/g, '-')}`;
    renameSync(layout.stateFile, aside);
    notes.push(`The state file was not readable (${read.problem}); moved it to ${aside}. The next \`up\` starts with blue live.`);
  } else if (options.reset) {
    rmSync(layout.stateFile, { force: true });
    notes.push('Forgot the last live color and released models (--reset); the next `up` uses the spec. The history is kept.');
  } else if (read.kind === 'ok' && read.state.running) {
    writeState(layout.stateFile, { ...read.state, running: null });
  }

  const survivors = processes.filter((item) => item.result === 'survived SIGKILL');
  if (survivors.length > 0) throw new DeployError('STOP_FAILED', survivors.map((item) => `${item.name} (pid ${item.pid})`).join(', '));
  const acted = processes.some((item) => item.result === 'stopped' || item.result === 'killed');
  return { kind: acted || removedRuntimeDir ? 'stopped' : 'nothing', processes, removedRuntimeDir, notes };
}

/**
 * Stops the supervisor first (so nothing is restarted behind our back), then nginx (so no new
 * request reaches a replica that is draining), then every replica of both colors: each from its
 * pid file, whatever the spec says now.
 */
async function stopAll(deps: RuntimeDeps, layout: StackLayout, timeoutMs: number): Promise<StoppedProcess[]> {
  const supervisor = await stopSupervisor(deps, layout);
  const replicas = processesWithPidFiles(layout).filter((name) => name !== 'nginx');
  return [
    supervisor,
    await stopByPidFile(deps, layout, 'nginx', timeoutMs),
    ...(await Promise.all(replicas.map((name) => stopByPidFile(deps, layout, name, timeoutMs)))),
  ];
}

async function stopByPidFile(deps: RuntimeDeps, layout: StackLayout, name: StackProcess, timeoutMs: number): Promise<StoppedProcess> {
  const file = layout.pidFile(name);
  const pid = readPidFile(file);
  if (pid.kind === 'missing') return { name, pid: null, result: 'no pid file' };
  if (pid.kind === 'invalid') {
    removePidFile(file);
    return { name, pid: null, result: 'invalid pid file' };
  }
  const result = await stopProcess(deps, pid.pid, (info) => isStackProcess(layout, name, info), {
    label: name,
    signal: name === 'nginx' ? 'SIGQUIT' : 'SIGTERM',
    timeoutMs,
    progress: deps.progress,
  });
  if (result.kind !== 'survived') removePidFile(file);
  switch (result.kind) {
    case 'not-running':
      return { name, pid: pid.pid, result: 'was not running' };
    case 'not-ours':
      return { name, pid: pid.pid, result: 'not ours, left alone' };
    case 'stopped':
      return { name, pid: pid.pid, result: 'stopped', ms: result.ms };
    case 'killed':
      return { name, pid: pid.pid, result: 'killed', ms: result.ms };
    case 'survived':
      return { name, pid: pid.pid, result: 'survived SIGKILL' };
    default: {
      const unreachable: never = result;
      return unreachable;
    }
  }
}

interface Repair {
  readonly spec: DeploymentSpec;
  readonly nginx: string;
  readonly state: StackState & { running: RunningStack };
  readonly checks: ReadonlyMap<StackProcess, ProcessCheck>;
  readonly supervisor: ProcessCheck;
  readonly begin: number;
  readonly request: UpRequest;
}

/**
 * `up` on a stack that partly runs: the supervisor (a running one re-reads its plan, a new one
 * adopts what still runs) starts only what is missing; a healthy color is never stopped. Says
 * what it did, process by process. A failure here stops nothing.
 */
async function repairStack(deps: RuntimeDeps, layout: StackLayout, repair: Repair): Promise<UpResult> {
  try {
    return await startMissing(deps, layout, repair);
  } catch (error) {
    if (error instanceof DeployError && error.code === 'START_FAILED') throw new DeployError('REPAIR_FAILED', error.detail ?? '');
    throw error;
  }
}

async function startMissing(deps: RuntimeDeps, layout: StackLayout, repair: Repair): Promise<UpResult> {
  const { state, checks, supervisor, spec } = repair;
  const { running } = state;
  if (!existsSync(join(layout.nginxPrefix, NGINX_CONF)) || !existsSync(layout.socketDir)) {
    throw new DeployError(
      'ALREADY_PARTLY_RUNNING',
      `${describeChecks(checks)}; but the runtime folder ${layout.runtimeDir} (sockets, nginx's config) is gone, so the rest can not be started beside them.`,
    );
  }
  const colorLaunches: Record<Color, { launch: ColorLaunch }> = {
    blue: { launch: launchAsItRan(layout, running, 'blue') },
    green: { launch: launchAsItRan(layout, running, 'green') },
  };
  const launches = replicaLaunches(colorLaunches, running.replicas);
  const fresh = [
    ...launches.map((launch) => colorProcess(deps, layout, launch)),
    nginxProcess(deps, repair.nginx, layout, running.router.port),
  ];
  const offsets = logOffsets(layout, stackProcesses(running.replicas));
  const notes = notAppliedNotes(repair.request, running);
  // The plan the stack runs (a release's config stays), or one made from the state file; a partial `up` changes nothing of what runs.
  const plan = existingPlan(layout) ?? supervisorPlan(deps, layout, supervisorPolicy(spec), fresh);
  const since = deps.clock.now();
  if (supervisor.kind === 'running') {
    updatePlan(deps, layout, plan);
    notes.push(`The supervisor (pid ${supervisor.pid}) was running; asked it to start what is missing.`);
  } else {
    removePidFile(layout.pidFile(SUPERVISOR));
    const pid = startSupervisor(deps, layout, plan);
    notes.push(`Started a new supervisor (pid ${pid}; the last one: ${describeCheck(supervisor)}); it adopted what still ran.`);
  }
  const reported = await awaitSupervised(deps, layout, stackEntries(plan.processes), offsets, since);
  for (const item of reported) {
    const before = checks.get(item.name) ?? { kind: 'none' };
    notes.push(
      before.kind === 'running' && before.pid === item.pid
        ? `${item.name}: kept running (pid ${item.pid}).`
        : `${item.name}: ${before.kind === 'running' ? `was running as pid ${before.pid}, now` : `${describeCheck(before)}; started again as`} pid ${item.pid}.`,
    );
  }
  const started = startedByName(reported, running.replicas);
  const live = readLink(layout.liveLink) ?? soleTarget(state.routes.live) ?? INITIAL_LIVE_COLOR;
  const facts = await awaitHealthy(deps, layout, started, {
    router: { port: running.router.port, live, previewPathPrefix: running.previewPathPrefix },
    launches,
    timeoutMs: repair.request.timeoutMs ?? DEFAULT_START_TIMEOUT_MS,
  });
  const colors = {
    blue: colorRun(colorLaunches.blue.launch, facts.blue, running.colors.blue.startedAt),
    green: colorRun(colorLaunches.green.launch, facts.green, running.colors.green.startedAt),
  };
  writeState(layout.stateFile, { ...state, running: { ...running, colors } });
  const startedColor = (color: Color) =>
    describeStartedColor(
      color,
      {
        pid: pidOf(started, color),
        port: running.colors[color].port,
        model: running.colors[color].model,
        modelSource: state.models[color] ? 'last release' : 'spec',
      },
      facts[color],
      replicaPids(started, color, running.replicas),
    );
  return startedResult(layout, {
    routes: state.routes,
    live,
    router: running.router,
    previewPathPrefix: running.previewPathPrefix,
    nginxPid: pidOf(started, 'nginx'),
    colors: { blue: startedColor('blue'), green: startedColor('green') },
    notes,
    durationMs: deps.clock.now() - repair.begin,
  });
}

/** A color as the state file says it last ran (a partial `up` starts it the same way). */
function launchAsItRan(layout: StackLayout, running: RunningStack, color: Color): ColorLaunch {
  return {
    color,
    replica: 1,
    model: resolveModel(layout.workspaceRoot, running.colors[color].model, `${color}'s model (as it last ran)`),
    port: running.colors[color].port,
    service: running.service,
  };
}

/** A partial `up` keeps what the stack ran: the flags that would change it are named as not applied. */
function notAppliedNotes(request: UpRequest, running: RunningStack): string[] {
  const { ports, models } = request;
  const changed = [
    ports.routerPort !== undefined && ports.routerPort !== running.router.port ? `--router-port=${ports.routerPort}` : '',
    ...Color.options.map((color) => {
      const port = color === 'blue' ? ports.bluePort : ports.greenPort;
      return port !== undefined && port !== running.colors[color].port ? `--${color}-port=${port}` : '';
    }),
    ...Color.options.map((color) => (models[color] ? `--${color}-model=${models[color]}` : '')),
  ].filter(Boolean);
  if (changed.length === 0) return [];
  return [
    `Not applied: ${changed.join(' ')} (the stack is partly running and keeps what it ran; \`deploy:release\` changes the idle color's model, \`deploy:down\` then \`deploy:up\` changes ports).`,
  ];
}

/** One color of `up`'s result: how it was started and what its /health said. */
function describeStartedColor(
  color: Color,
  run: Pick<StartedColor, 'pid' | 'port' | 'model' | 'modelSource'>,
  facts: ColorFacts,
  replicas: readonly StartedReplica[],
): StartedColor {
  return {
    color,
    ...run,
    replicas: [...replicas],
    url: httpUrl(SERVICE_HOST, run.port),
    version: facts.version,
    featureCount: facts.featureCount,
    modelSha256: facts.modelSha256,
  };
}

/** `up`'s result, for a fresh start and for a partial one alike. */
function startedResult(
  layout: StackLayout,
  up: {
    readonly routes: StackState['routes'];
    readonly live: Color;
    readonly router: { readonly host: string; readonly port: number };
    readonly previewPathPrefix: string;
    readonly nginxPid: number | null;
    readonly colors: Record<Color, StartedColor>;
    readonly notes: readonly string[];
    readonly durationMs: number;
  },
): UpResult {
  const routerUrl = httpUrl(up.router.host, up.router.port);
  return {
    kind: 'started',
    backend: 'local',
    routes: up.routes,
    live: up.live,
    preview: otherColor(up.live),
    routerUrl,
    previewUrl: `${routerUrl}${up.previewPathPrefix}`,
    nginxPid: up.nginxPid,
    colors: up.colors,
    notes: [...up.notes],
    durationMs: up.durationMs,
    stateDir: layout.stateDir,
    logDir: layout.logDir,
  };
}

function existingPlan(layout: StackLayout) {
  try {
    return currentPlan(layout);
  } catch {
    return undefined;
  }
}
