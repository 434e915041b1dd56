import { Color, otherColor } from '@mlbg/contract';
import { chmodSync, existsSync, lstatSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import type { DeploymentSpec } from '../../../spec/deployment-spec';
import { loadDeploymentSpec } from '../../../spec/load';
import { applyOverrides } from '../../../spec/overrides';
import { DeploymentSpecError } from '../../../spec/spec-error';
import type { RuntimeDeps } from '../../../effects/deps';
import { DeployError } from '../../../errors';
import { STACK_PROCESSES, SUPERVISOR, type StackLayout, type StackProcess, httpUrl } from '../layout';
import {
  DEFAULT_STOP_TIMEOUT_MS,
  type ProcessCheck,
  checkProcess,
  isStackProcess,
  readPidFile,
  removePidFile,
  stopProcess,
} from './processes';
import {
  NGINX_CONF,
  ROUTER_HOST,
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
  logTail,
  probeColor,
  requireServiceBuilt,
  resolveModel,
  waitUntilReady,
} from '../services/color-service';
import { type RunningStack, type StackState, initialState, readState, writeState } from './state';
import { localStatus } from './status';
import type { DownResult, ModelSource, StartedColor, StoppedProcess, UpRequest, UpResult } from '../../backend';
import { soleTarget } from '../../../routing/routes';
import { INITIAL_LIVE_COLOR } from '../../../spec/sockets';

/** The service's log level unless --log-level says otherwise. */
export const DEFAULT_LOG_LEVEL = 'info';

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

  {
    mkdirSync(layout.pidDir, { recursive: true });
    mkdirSync(layout.logDir, { recursive: true });
    const read = readState(layout.stateFile);
    if (read.kind === 'corrupt') throw new DeployError('STATE_CORRUPT', `${read.file}: ${read.problem}.`);
    const state = read.kind === 'ok' ? read.state : initialState();

    const checks = inspectStack(deps, layout);
    const supervisor = checkSupervisor(deps, layout);
    const alive = STACK_PROCESSES.filter((name) => checks[name].kind === 'running');
    if (state.running && (alive.length > 0 || supervisor.kind === 'running')) {
      if (alive.length === STACK_PROCESSES.length && supervisor.kind === 'running')
        return { kind: 'already-up', status: await localStatus(deps, layout) };
      return repairStack(deps, layout, {
        spec,
        nginx,
        state: state as StackState & { running: RunningStack },
        checks,
        supervisor,
        begin,
        request,
      });
    }
    if (alive.length > 0) {
      throw new DeployError(
        'ALREADY_PARTLY_RUNNING',
        `${STACK_PROCESSES.map((name) => `${name}: ${describeCheck(checks[name])}`).join('; ')}, and the state file records no running stack.`,
      );
    }

    const notes: string[] = [];
    const leftovers = STACK_PROCESSES.filter((name) => checks[name].kind !== 'none');
    // A supervisor left without a recorded stack would start its old plan beside the new one.
    if (supervisor.kind === 'running')
      notes.push(`Stopped a supervisor left from an earlier stack (${(await stopSupervisor(deps, layout)).result}).`);
    if (supervisor.kind !== 'none') removePidFile(layout.pidFile(SUPERVISOR));
    if (leftovers.length > 0 || existsSync(layout.runtimeDir) || state.running) {
      for (const name of [...STACK_PROCESSES, SUPERVISOR] as const) removePidFile(layout.pidFile(name));
      removeRuntimeDir(deps, layout);
      notes.push(
        `Cleaned up after a stack that is no longer running (${leftovers.map((name) => `${name}: ${describeCheck(checks[name])}`).join(', ') || 'no processes'}).`,
      );
    }

    const launches = Color.options.map((color) => colorLaunch(layout, spec, state, request, color));
    for (const { launch } of launches) {
      const bind = await deps.canBind(launch.port, SERVICE_HOST);
      if (!bind.ok) {
        throw new DeployError('PORT_UNAVAILABLE', `${launch.color}'s port ${launch.port} ${explainBind(bind)}.`, {
          hint: `Stop what listens on ${launch.port}, or pass --${launch.color}-port (or BLUEGREEN_${launch.color.toUpperCase()}_PORT).`,
        });
      }
    }
    const requestedPort = spec.router.port;
    const explicitPort = request.ports.routerPort !== undefined;
    const router = await chooseRouterPort(
      deps,
      routerPortCandidates(
        requestedPort,
        explicitPort,
        launches.map(({ launch }) => launch.port),
      ),
      explicitPort,
    );
    if (router.note) notes.push(router.note);

    const live = soleTarget(state.routes.live) ?? INITIAL_LIVE_COLOR;
    if (live !== INITIAL_LIVE_COLOR) notes.push(`${live} is live, as it was when the stack last ran (switch with deploy:switch).`);
    const startedAt = new Date(deps.clock.now()).toISOString();
    const service = {
      logLevel: request.logLevel ?? DEFAULT_LOG_LEVEL,
      bodyLimitBytes: spec.limits.bodyLimitBytes,
      maxBatchRows: spec.limits.maxBatchRows,
    };
    const running: RunningStack = {
      startedAt,
      runtimeDir: layout.runtimeDir,
      socketDir: layout.socketDir,
      nginxPrefix: layout.nginxPrefix,
      router: { host: ROUTER_HOST, port: router.port, requestedPort },
      previewPathPrefix: spec.preview.pathPrefix,
      liveSlots: spec.canary.slots,
      service,
      colors: {
        blue: colorRun({ ...launchOf(launches, 'blue'), service }, undefined, startedAt),
        green: colorRun({ ...launchOf(launches, 'green'), service }, undefined, startedAt),
      },
    };
    let started: Started[] = [];
    try {
      prepareRuntimeDir(deps, layout);
      copyServiceBuild(layout);
      writeRouteLinks(layout, state.routes, spec.canary.slots);
      await writeAndTestNginxConf(deps, nginx, layout, spec, router.port);
      // Written before anything starts, so `down` knows about a stack interrupted while starting.
      writeState(layout.stateFile, { ...state, running });
      const processes = [
        ...launches.map(({ launch }) => colorProcess(deps, layout, { ...launch, service })),
        nginxProcess(deps, nginx, layout, router.port),
      ];
      const offsets = logOffsets(layout, STACK_PROCESSES);
      const since = deps.clock.now();
      const supervisorPid = startSupervisor(deps, layout, supervisorPlan(deps, layout, supervisorPolicy(spec), processes));
      started = await awaitSupervised(
        deps,
        layout,
        processes.map((item) => ({ name: item.name as StackProcess, config: item.config })),
        offsets,
        since,
      );
      deps.progress(
        `Started blue (pid ${started[0]?.pid}), green (pid ${started[1]?.pid}) and nginx (pid ${started[2]?.pid}) under the supervisor (pid ${supervisorPid}); waiting until they are healthy...`,
      );
      const items: AwaitedProcess<ColorFacts | true>[] = started.map((item) => ({
        started: item,
        probe: () =>
          item.name === 'nginx'
            ? probeRouter(deps, router.port, live, spec.preview.pathPrefix)
            : probeColor(deps, layout, item.name, launchOf(launches, item.name).port),
      }));
      const ready = await waitUntilReady(deps, items, request.timeoutMs ?? DEFAULT_START_TIMEOUT_MS);
      if (!ready.ok) throw startFailure(layout, ready.failed, ready.reason);
      await awaitSupervisorReady(deps, layout, started);

      const facts = (color: Color) => ready.facts.get(color) as ColorFacts;
      writeState(layout.stateFile, {
        ...state,
        running: {
          ...running,
          colors: {
            blue: colorRun({ ...launchOf(launches, 'blue'), service }, facts('blue'), startedAt),
            green: colorRun({ ...launchOf(launches, 'green'), service }, facts('green'), startedAt),
          },
        },
      });
      const color = (name: Color): StartedColor => {
        const launch = launchOf(launches, name);
        const source = launches.find((item) => item.launch.color === name)?.source ?? 'spec';
        return startedColor(
          name,
          {
            pid: started.find((item) => item.name === name)?.pid ?? 0,
            port: launch.port,
            model: launch.model.display,
            modelSource: source,
          },
          facts(name),
        );
      };
      return startedResult(layout, {
        routes: state.routes,
        live,
        router: { host: ROUTER_HOST, port: router.port },
        previewPathPrefix: spec.preview.pathPrefix,
        nginxPid: started.find((item) => item.name === 'nginx')?.pid ?? 0,
        colors: { blue: color('blue'), green: color('green') },
        notes,
        durationMs: deps.clock.now() - begin,
      });
    } catch (error) {
      deps.progress('Stopping what this command started...');
      await stopAll(deps, layout, DEFAULT_STOP_TIMEOUT_MS);
      removeRuntimeDir(deps, layout);
      writeState(layout.stateFile, { ...state, running: null });
      throw error;
    }
  }
}

function colorLaunch(layout: StackLayout, spec: DeploymentSpec, state: StackState, request: UpRequest, color: Color) {
  const flag = request.models[color];
  const released = state.models[color];
  const [path, source]: [string, ModelSource] = flag
    ? [flag, 'flag']
    : released
      ? [released, 'last release']
      : [spec.colors[color].model, 'spec'];
  const model: ModelFile = resolveModel(layout.workspaceRoot, path, `${color}'s model (from the ${source})`);
  return { launch: { color, model, port: spec.colors[color].port }, source };
}

function launchOf(launches: ReturnType<typeof colorLaunch>[], color: Color): Omit<ColorLaunch, 'service'> {
  const found = launches.find((item) => item.launch.color === color);
  if (!found) throw new Error(`no launch for ${color}`);
  return found.launch;
}

function startFailure(layout: StackLayout, failed: Started, reason: string): DeployError {
  let detail = `${reason}.\nLast lines of ${failed.logFile}:\n${logTail(failed.logFile, failed.logOffset)}`;
  if (failed.name === 'nginx') detail += `\nnginx's error log:\n${logTail(join(layout.nginxPrefix, 'error.log'), 0)}`;
  return new DeployError('START_FAILED', detail);
}

/** Each stack process as its pid file and the system see it. */
export function inspectStack(deps: RuntimeDeps, layout: StackLayout): Record<StackProcess, ProcessCheck> {
  return {
    nginx: checkProcess(deps.processes, layout, 'nginx'),
    blue: checkProcess(deps.processes, layout, 'blue'),
    green: checkProcess(deps.processes, layout, 'green'),
  };
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
  for (const dir of [layout.runtimeDir, layout.socketDir, layout.nginxPrefix]) {
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
  {
    const timeoutMs = options.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    const processes = await stopAll(deps, layout, timeoutMs);
    // Shadow traffic's relay, when `deploy:shadow on` started one (backends/local/shadow.ts).
    const relay = await stopShadowRelay(deps, layout, timeoutMs);
    if (relay) processes.push(relay);

    const notes: string[] = [];
    if (existsSync(layout.logDir)) saveNginxLogs(layout);
    const removedRuntimeDir = removeRuntimeDir(deps, layout);
    if (processes.every((item) => item.result !== 'survived SIGKILL')) rmSync(layout.serviceCopyDir, { recursive: true, force: true });
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
}

/**
 * Stops the supervisor first (so nothing is restarted behind our back), then nginx (so no new
 * request reaches a color that is draining), then both colors: each from its pid file.
 */
async function stopAll(deps: RuntimeDeps, layout: StackLayout, timeoutMs: number): Promise<StoppedProcess[]> {
  const supervisor = await stopSupervisor(deps, layout);
  return [
    supervisor,
    await stopByPidFile(deps, layout, 'nginx', timeoutMs),
    ...(await Promise.all(Color.options.map((color) => stopByPidFile(deps, layout, color, timeoutMs)))),
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
  readonly checks: Record<StackProcess, ProcessCheck>;
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
      `${STACK_PROCESSES.map((name) => `${name}: ${describeCheck(checks[name])}`).join('; ')}; but the runtime folder ${layout.runtimeDir} (sockets, nginx's config) is gone, so the rest can not be started beside them.`,
    );
  }
  const launches: ColorLaunch[] = Color.options.map((color) => ({
    color,
    model: resolveModel(layout.workspaceRoot, running.colors[color].model, `${color}'s model (as it last ran)`),
    port: running.colors[color].port,
    service: running.service,
  }));
  const fresh = [
    ...launches.map((launch) => colorProcess(deps, layout, launch)),
    nginxProcess(deps, repair.nginx, layout, running.router.port),
  ];
  const offsets = logOffsets(layout, STACK_PROCESSES);
  const notes: string[] = [];
  const { ports, models } = repair.request;
  const changed = [
    ports.routerPort !== undefined && ports.routerPort !== running.router.port ? `--router-port=${ports.routerPort}` : '',
    ...Color.options.map((color) => {
      const port = color === 'blue' ? ports.bluePort : ports.greenPort;
      return port !== undefined && port !== running.colors[color].port ? `--${color}-port=${port}` : '';
    }),
    ...Color.options.map((color) => (models[color] ? `--${color}-model=${models[color]}` : '')),
  ].filter(Boolean);
  if (changed.length > 0)
    notes.push(
      `Not applied: ${changed.join(' ')} (the stack is partly running and keeps what it ran; \`deploy:release\` changes the idle color's model, \`deploy:down\` then \`deploy:up\` changes ports).`,
    );
  // The plan the stack runs (a release's config stays), or one made from the state file; a partial `up` changes nothing of what runs.
  const plan = existingPlan(layout) ?? supervisorPlan(deps, layout, supervisorPolicy(spec), fresh);
  const processes = plan.processes.filter((item): item is typeof item & { name: StackProcess } =>
    (STACK_PROCESSES as readonly string[]).includes(item.name),
  );
  const since = deps.clock.now();
  if (supervisor.kind === 'running') {
    updatePlan(deps, layout, plan);
    notes.push(`The supervisor (pid ${supervisor.pid}) was running; asked it to start what is missing.`);
  } else {
    removePidFile(layout.pidFile(SUPERVISOR));
    const pid = startSupervisor(deps, layout, plan);
    notes.push(`Started a new supervisor (pid ${pid}; the last one: ${describeCheck(supervisor)}); it adopted what still ran.`);
  }
  const started = await awaitSupervised(
    deps,
    layout,
    processes.map((item) => ({ name: item.name, config: item.config })),
    offsets,
    since,
  );
  for (const item of started) {
    const before = checks[item.name];
    notes.push(
      before.kind === 'running' && before.pid === item.pid
        ? `${item.name}: kept running (pid ${item.pid}).`
        : `${item.name}: ${before.kind === 'running' ? `was running as pid ${before.pid}, now` : `${describeCheck(before)}; started again as`} pid ${item.pid}.`,
    );
  }
  const live = readLink(layout.liveSocket) ?? soleTarget(state.routes.live) ?? INITIAL_LIVE_COLOR;
  const ready = await waitUntilReady<ColorFacts | true>(
    deps,
    started.map((item) => ({
      started: item,
      probe: () =>
        item.name === 'nginx'
          ? probeRouter(deps, running.router.port, live, running.previewPathPrefix)
          : probeColor(deps, layout, item.name, running.colors[item.name].port),
    })),
    repair.request.timeoutMs ?? DEFAULT_START_TIMEOUT_MS,
  );
  if (!ready.ok) throw startFailure(layout, ready.failed, ready.reason);
  await awaitSupervisorReady(deps, layout, started);
  const facts = (color: Color) => ready.facts.get(color) as ColorFacts;
  const launchFor = (color: Color) => launches.find((launch) => launch.color === color) as ColorLaunch;
  const colors = {
    blue: colorRun(launchFor('blue'), facts('blue'), running.colors.blue.startedAt),
    green: colorRun(launchFor('green'), facts('green'), running.colors.green.startedAt),
  };
  writeState(layout.stateFile, { ...state, running: { ...running, colors } });
  const color = (name: Color): StartedColor =>
    startedColor(
      name,
      {
        pid: started.find((item) => item.name === name)?.pid ?? null,
        port: running.colors[name].port,
        model: running.colors[name].model,
        modelSource: state.models[name] ? 'last release' : 'spec',
      },
      facts(name),
    );
  return startedResult(layout, {
    routes: state.routes,
    live,
    router: running.router,
    previewPathPrefix: running.previewPathPrefix,
    nginxPid: started.find((item) => item.name === 'nginx')?.pid ?? null,
    colors: { blue: color('blue'), green: color('green') },
    notes,
    durationMs: deps.clock.now() - repair.begin,
  });
}

/** One color of `up`'s result: how it was started and what its /health said. */
function startedColor(color: Color, run: Pick<StartedColor, 'pid' | 'port' | 'model' | 'modelSource'>, facts: ColorFacts): StartedColor {
  return {
    color,
    ...run,
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
