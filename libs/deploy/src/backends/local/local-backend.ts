import type { Color } from '@mlbg/contract';
import { join } from 'node:path';
import type { HttpCall, RuntimeDeps } from '../../effects/deps';
import { replicasMetrics } from '../replica-metrics';
import { LOCAL_NGINX_FILES } from '../../render/nginx/nginx-site';
import { DEFAULT_PREVIEW_PATH_PREFIX } from '../../spec/deployment-spec';
import { DEFAULT_LIVE_SLOTS, replicaNumbers } from '../../spec/sockets';
import { DeployError, isNotWritable } from '../../errors';
import { type StackLayout, httpUrl, replicaName } from './layout';
import { checkProcess } from './stack/processes';
import { routesFromLinks, writeRouteLinks } from './nginx/route-links';
import type { Routes } from '../../routing/routes';
import { describeCheck, stackDown, stackUp } from './stack/up-down';
import { releaseModel } from './stack/release';
import { localStatus } from './stack/status';
import { captureBodies, shadowOff, shadowOn, shadowStatus } from './shadow/shadow';
import type { Backend, PastWindow } from '../backend';
import { localMeter, localServedBetween } from './canary-meter';
import { type RunningStack, type StackState, type StagedState, readState, stageState } from './stack/state';
import { readLogFrom } from '../../effects/log-files';

/**
 * The state of a stack that `up` started and whose nginx still runs.
 * @throws DeployError STATE_CORRUPT, STACK_NOT_RUNNING
 */
export function requireRunningStack(deps: RuntimeDeps, layout: StackLayout): StackState & { running: RunningStack } {
  const read = readState(layout.stateFile);
  if (read.kind === 'corrupt') throw new DeployError('STATE_CORRUPT', `${read.file}: ${read.problem}.`);
  if (read.kind === 'missing') throw new DeployError('STACK_NOT_RUNNING', `There is no state file at ${read.file}.`);
  const { state } = read;
  if (!state.running) throw new DeployError('STACK_NOT_RUNNING', `${layout.stateDir} records a stack that was stopped with \`down\`.`);
  const nginx = checkProcess(deps.processes, layout, 'nginx');
  if (nginx.kind !== 'running') {
    throw new DeployError('STACK_NOT_RUNNING', `nginx is not running (${describeCheck(nginx)}).`, {
      hint: 'Run `npx nx run deploy:down` and then `npx nx run deploy:up`.',
    });
  }
  return state as StackState & { running: RunningStack };
}

/**
 * The local stack as a {@link Backend}: two colors of node processes (replicas) and a real nginx,
 * under the state folder. Each replica is reached through its own unix socket (the path nginx
 * takes), nginx through its port, and routes move by renaming symlinks; the state file follows the links.
 */
export function localBackend(deps: RuntimeDeps, layout: StackLayout): Backend {
  const running = () => requireRunningStack(deps, layout);
  const current = (): StackState | undefined => {
    const read = readState(layout.stateFile);
    return read.kind === 'ok' ? read.state : undefined;
  };
  const router = () => {
    const { router: where } = running().running;
    return { host: where.host, port: where.port };
  };
  const replica = (color: Color, number: number) => {
    const socketPath = layout.replicaSocket(color, number);
    return {
      name: replicaName(color, number),
      health: () => deps.http({ socketPath }, { method: 'GET', path: '/health' }),
      predict: (body: string) => deps.http({ socketPath }, { method: 'POST', path: '/predict', body }),
      request: (call: HttpCall) => deps.http({ socketPath }, call),
    };
  };
  // Read at each use: the stack's replica count is in its state file.
  const replicasOf = (color: Color) => replicaNumbers(current()?.running?.replicas ?? 1).map((number) => replica(color, number));
  let routerUrl: string | undefined;
  return {
    kind: 'local',
    get routerUrl() {
      routerUrl ??= (() => {
        const read = current();
        return read?.running ? httpUrl(read.running.router.host, read.running.router.port) : '(the local stack is not running)';
      })();
      return routerUrl;
    },
    up: (request) => stackUp(deps, layout, request),
    down: (request) => stackDown(deps, layout, request),
    release: (request) => releaseModel(deps, layout, request),
    status: () => localStatus(deps, layout),
    async readRoutes() {
      const state = running();
      return routesFromLinks(layout, state.routes, state.running.liveSlots);
    },
    // The links are what nginx follows; the state file follows them. Its write is staged before a
    // link moves, so a full or read-only state folder refuses the move with nothing moved.
    async setRoutes(routes) {
      const state = running();
      const slots = state.running.liveSlots;
      let staged: StagedState;
      try {
        staged = stageState(layout.stateFile, { ...(current() ?? state), routes });
      } catch (error) {
        throw stateNotWritable(layout.stateFile, error, 'no route was moved');
      }
      const before = routesFromLinks(layout, state.routes, slots);
      try {
        writeRouteLinks(layout, routes, slots);
      } catch (error) {
        staged.discard();
        throw error;
      }
      await deps.testPause?.('after-rename');
      try {
        staged.commit();
      } catch (error) {
        writeRouteLinks(layout, before, slots);
        throw stateNotWritable(layout.stateFile, error, 'the links were moved back, so no route changed');
      }
    },
    routerHealth: (route = 'live') =>
      deps.http(router(), { method: 'GET', path: route === 'live' ? '/health' : `${running().running.previewPathPrefix}health` }),
    // A color as a whole is its replica 1 (the one on the color's port); `replicas` reaches each.
    colors: {
      health: (color) => replica(color, 1).health(),
      predict: (color, body) => replica(color, 1).predict(body),
      // Read at each use: a release may have finished since the backend was made.
      recorded: (color: Color) => current()?.running?.colors[color],
      // `instance`: one replica by name (as `instances` lists them), e.g. to read its own prediction records.
      request: async (color, call, instance) => {
        const target = instance === undefined ? replica(color, 1) : replicasOf(color).find((item) => item.name === instance);
        if (!target) throw new DeployError('DIFF_UNAVAILABLE', `${color} has no replica named ${instance}.`);
        return target.request(call);
      },
      // Each replica keeps its own prediction records: a color's are all of theirs together.
      instances: async (color) => replicasOf(color).map((item) => item.name),
      replicas: (color) => replicasOf(color),
    },
    shadow: {
      on: (request) => {
        running();
        return shadowOn(deps, layout, request);
      },
      off: () => shadowOff(deps, layout),
      status: () => shadowStatus(deps, layout),
      capture: (request) => {
        running();
        return captureBodies(deps, layout, request);
      },
    },
    get canary() {
      const state = current();
      const slots = state?.running?.liveSlots ?? DEFAULT_LIVE_SLOTS;
      return {
        slots,
        previewPathPrefix: state?.running?.previewPathPrefix ?? DEFAULT_PREVIEW_PATH_PREFIX,
        request: (call: HttpCall) => deps.http(router(), call),
        meter: (colors: { stable: Color; canary: Color }) =>
          localMeter(
            {
              slots,
              // In bounded pieces, and across a rotation (the supervisor renames it over its cap).
              clock: deps.clock,
              readAccessLog: async (from) => readLogFrom(join(layout.nginxPrefix, LOCAL_NGINX_FILES.accessLog), from),
              metrics: (color) => replicasMetrics(replicasOf(color)),
            },
            colors,
          ),
        servedBetween: (window: PastWindow, routes: Routes) =>
          localServedBetween(
            { slots, readAccessLog: async (from) => readLogFrom(join(layout.nginxPrefix, LOCAL_NGINX_FILES.accessLog), from) },
            window,
            routes,
          ),
      };
    },
  };
}

/** A state write the file system refused, as STATE_NOT_WRITABLE saying what did (not) change; anything else as it is. */
function stateNotWritable(file: string, error: unknown, what: string): unknown {
  if (!isNotWritable(error)) return error;
  return new DeployError('STATE_NOT_WRITABLE', `${file} could not be written (${(error as Error).message}); ${what}.`);
}
