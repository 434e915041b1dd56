import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { Color } from '@mlbg/contract';
import { DEPLOYMENT_SPEC_PATH } from '../../spec/deployment-spec';
import { CANARY_LINK, LIVE_LINK, PREVIEW_LINK, colorFolder, colorReplicaSocket, liveSlotLink } from '../../spec/sockets';

/** The state folder's default name, at the workspace root (git-ignored). */
export const DEFAULT_STATE_DIR = '.bluegreen';
/** Where Nx builds the model service and the libs it requires, relative to the workspace root. */
export const SERVICE_BUILD_DIR = 'dist';
/** The service's entry, relative to a build folder (or to the stack's copy of one). */
export const SERVICE_ENTRY = 'apps/model-service/src/main.js';
/** The built model service, relative to the workspace root. */
export const SERVICE_MAIN = `${SERVICE_BUILD_DIR}/${SERVICE_ENTRY}`;
/** The built libs the service requires (node finds them from `apps/...` by walking up). */
const SERVICE_LIBS = 'node_modules/@mlbg';
/** Marker in each service's environment: which stack started it (checked before any signal). */
export const STACK_ENV_MARKER = 'MLBG_STACK';
/** Marker in each replica's environment: which replica of its color it is (checked before any signal). */
export const REPLICA_ENV_MARKER = 'MLBG_REPLICA';

/** A replica's process name: the color for replica 1 (`blue`, as before replicas), else `blue-2`, `blue-3`, ... */
export type ReplicaName = Color | `${Color}-${number}`;
/** A process the local stack runs: the colors' replicas and the router. */
export type StackProcess = ReplicaName | 'nginx';

/** One replica of a color: replica 1 keeps the color's port and the names of a color without replicas. */
export interface Replica {
  readonly color: Color;
  readonly replica: number;
}

const REPLICA_NAME = new RegExp(`^(${Color.options.join('|')})(?:-([1-9]\\d*))?$`);

export function replicaName(color: Color, replica: number): ReplicaName {
  return replica === 1 ? color : `${color}-${replica}`;
}

/** The replica a process name stands for, or undefined when it names none (`nginx`, `supervisor`). */
export function replicaOf(name: string): Replica | undefined {
  const match = REPLICA_NAME.exec(name);
  const color = Color.safeParse(match?.[1]).data;
  if (!match || !color) return undefined;
  const replica = match[2] === undefined ? 1 : Number(match[2]);
  return replica === 1 && match[2] !== undefined ? undefined : { color, replica };
}

/** Every replica of both colors, color by color: blue, blue-2, ..., green, green-2, ... */
export function stackReplicas(replicasPerColor: number): Replica[] {
  return Color.options.flatMap((color) => Array.from({ length: replicasPerColor }, (_, index) => ({ color, replica: index + 1 })));
}

/** The processes of a stack with `replicasPerColor` replicas per color: nginx, then every replica. */
export function stackProcesses(replicasPerColor: number): StackProcess[] {
  return ['nginx', ...stackReplicas(replicasPerColor).map(({ color, replica }) => replicaName(color, replica))];
}

/** The stack's supervisor (see supervisor.ts): it has a pid file and a log like the processes it watches. */
export const SUPERVISOR = 'supervisor';
/** Shadow traffic's relay (shadow/relay/): supervised like the stack's processes while `deploy:shadow on` has it run. */
export const SHADOW_RELAY = 'shadow-relay';
/** What the supervisor runs. */
export type SupervisedName = StackProcess | typeof SHADOW_RELAY;
/** Anything with a pid file and a log in the state folder. */
export type PidName = SupervisedName | typeof SUPERVISOR;

/** Every path the local stack uses. Pure: derived from the state folder and the temp root. */
export interface StackLayout {
  readonly workspaceRoot: string;
  /** The deployment spec the commands read (`deploy/deployment.json`, or BLUEGREEN_SPEC). */
  readonly specFile: string;
  readonly stateDir: string;
  readonly stateFile: string;
  readonly historyFile: string;
  /** proper-lockfile's lock folder; `lockInfoFile` says who holds it. */
  readonly lockDir: string;
  readonly lockInfoFile: string;
  readonly pidDir: string;
  readonly logDir: string;
  /**
   * Under the temp root, keyed by the state folder, so nginx's workers (`nobody` when the master
   * is root) can reach it even when the workspace is under /root.
   */
  readonly runtimeDir: string;
  readonly socketDir: string;
  readonly nginxPrefix: string;
  /** The build `up` copies the service from (`dist/`, or BLUEGREEN_SERVICE_BUILD). */
  readonly serviceBuild: { readonly dir: string; readonly main: string; readonly parts: readonly string[] };
  /**
   * The stack's own copy of the build, which its colors run: a later build (which deletes and
   * rewrites `dist/node_modules/@mlbg`) never pulls files from under a running stack.
   */
  readonly serviceCopyDir: string;
  readonly serviceMain: string;
  pidFile(process: PidName): string;
  logFile(process: PidName): string;
  /** What the supervisor runs (written by `up` and `release`) and what it reports (written by the supervisor). */
  readonly supervisorPlanFile: string;
  readonly supervisorStatusFile: string;
  /** A color's folder of replica sockets (`<socketDir>/blue`): what the route links point at. */
  colorFolder(color: Color): string;
  /** One replica's socket (`<socketDir>/blue/r2.sock`). */
  replicaSocket(color: Color, replica: number): string;
  readonly liveLink: string;
  readonly previewLink: string;
  /** The live route's slot links (`live-slot-07`), beside the color folders. */
  liveSlot(index: number): string;
  readonly canaryLink: string;
}

/**
 * @param stateDir absolute or relative to `workspaceRoot`
 * @param tmpRoot `os.tmpdir()` normally
 * @param options.specFile another deployment spec than the committed one (relative to `workspaceRoot`)
 */
export function stackLayout(
  workspaceRoot: string,
  stateDir: string,
  tmpRoot: string,
  options: { serviceBuildDir?: string; specFile?: string } = {},
): StackLayout {
  const root = resolve(workspaceRoot);
  const state = resolve(root, stateDir);
  const buildDir = resolve(root, options.serviceBuildDir ?? SERVICE_BUILD_DIR);
  const copyDir = join(state, 'service');
  const runtimeDir = join(tmpRoot, `mlbg-${createHash('sha256').update(state).digest('hex').slice(0, 12)}`);
  const socketDir = join(runtimeDir, 'run');
  return {
    workspaceRoot: root,
    specFile: resolve(root, options.specFile ?? DEPLOYMENT_SPEC_PATH),
    stateDir: state,
    stateFile: join(state, 'state.json'),
    historyFile: join(state, 'history.jsonl'),
    lockDir: join(state, 'deploy.lock'),
    lockInfoFile: join(state, 'deploy.lock.json'),
    pidDir: join(state, 'pids'),
    logDir: join(state, 'logs'),
    runtimeDir,
    socketDir,
    nginxPrefix: join(runtimeDir, 'nginx'),
    serviceBuild: { dir: buildDir, main: join(buildDir, SERVICE_ENTRY), parts: [dirname(dirname(SERVICE_ENTRY)), SERVICE_LIBS] },
    serviceCopyDir: copyDir,
    serviceMain: join(copyDir, SERVICE_ENTRY),
    pidFile: (process) => join(state, 'pids', `${process}.pid`),
    logFile: (process) => join(state, 'logs', `${process}.log`),
    supervisorPlanFile: join(state, 'supervisor-plan.json'),
    supervisorStatusFile: join(state, 'supervisor-status.json'),
    colorFolder: (color) => join(socketDir, colorFolder(color)),
    replicaSocket: (color, replica) => join(socketDir, colorReplicaSocket(color, replica)),
    liveLink: join(socketDir, LIVE_LINK),
    previewLink: join(socketDir, PREVIEW_LINK),
    liveSlot: (index) => join(socketDir, liveSlotLink(index)),
    canaryLink: join(socketDir, CANARY_LINK),
  };
}

/** `http://host:port`, without `:80`, as users type it. */
export function httpUrl(host: string, port: number): string {
  return port === 80 ? `http://${host}` : `http://${host}:${port}`;
}
