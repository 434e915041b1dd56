import type { Color } from '@mlbg/contract';
import type { RuntimeDeps } from '../../effects/deps';
import { DeployError } from '../../errors';
import { type StackLayout, httpUrl } from './layout';
import { checkProcess } from './processes';
import { pointLiveAt, readRoute } from './route-links';
import { describeCheck } from './lifecycle';
import { type RunningStack, type StackState, readState, writeState } from './state';
import type { SwitchBackend } from '../../commands/switch';

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
 * The switch on the local stack: each color through its own unix socket (the path nginx takes),
 * nginx through its port, and the live route moved by renaming symlinks; the state file follows.
 */
export function localBackend(deps: RuntimeDeps, layout: StackLayout, state: StackState & { running: RunningStack }): SwitchBackend {
  const { running } = state;
  const router = { host: running.router.host, port: running.router.port };
  // Read at each use: the lock is taken after this backend is made, and a release may have finished meanwhile.
  const current = (): StackState => {
    const read = readState(layout.stateFile);
    return read.kind === 'ok' ? read.state : state;
  };
  return {
    target: 'local',
    routerUrl: httpUrl(router.host, router.port),
    liveColor: async () => readRoute(layout.liveSocket) ?? state.live,
    recordedVersion: (color: Color) => current().running?.colors[color].version,
    recordedFeatureCount: (color: Color) => current().running?.colors[color].featureCount,
    health: (color) => deps.http({ socketPath: layout.socket(color) }, { method: 'GET', path: '/health' }),
    predict: (color, body) => deps.http({ socketPath: layout.socket(color) }, { method: 'POST', path: '/predict', body }),
    routerHealth: () => deps.http(router, { method: 'GET', path: '/health' }),
    async pointLiveAt(color) {
      pointLiveAt(layout, color);
      writeState(layout.stateFile, { ...current(), live: color });
    },
  };
}
