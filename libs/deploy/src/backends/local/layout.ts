import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Color } from '@mlbg/contract';
import { LIVE_SOCKET, PREVIEW_SOCKET, colorSocket } from '../../spec/sockets';

/** The state folder's default name, at the workspace root (git-ignored). */
export const DEFAULT_STATE_DIR = '.bluegreen';
/** The built model service, relative to the workspace root. */
export const SERVICE_MAIN = 'dist/apps/model-service/src/main.js';
/** Marker in each service's environment: which stack started it (checked before any signal). */
export const STACK_ENV_MARKER = 'MLBG_STACK';

/** A process the local stack runs: the two colors and the router. */
export type StackProcess = Color | 'nginx';
export const STACK_PROCESSES: readonly StackProcess[] = ['nginx', 'blue', 'green'];

/** Every path the local stack uses. Pure: derived from the state folder and the temp root. */
export interface StackLayout {
  readonly workspaceRoot: string;
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
  readonly serviceMain: string;
  pidFile(process: StackProcess): string;
  logFile(process: StackProcess): string;
  socket(color: Color): string;
  readonly liveSocket: string;
  readonly previewSocket: string;
}

/**
 * @param stateDir absolute or relative to `workspaceRoot`
 * @param tmpRoot `os.tmpdir()` normally
 */
export function stackLayout(workspaceRoot: string, stateDir: string, tmpRoot: string): StackLayout {
  const root = resolve(workspaceRoot);
  const state = resolve(root, stateDir);
  const runtimeDir = join(tmpRoot, `mlbg-${createHash('sha256').update(state).digest('hex').slice(0, 12)}`);
  const socketDir = join(runtimeDir, 'run');
  return {
    workspaceRoot: root,
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
    serviceMain: join(root, SERVICE_MAIN),
    pidFile: (process) => join(state, 'pids', `${process}.pid`),
    logFile: (process) => join(state, 'logs', `${process}.log`),
    socket: (color) => join(socketDir, colorSocket(color)),
    liveSocket: join(socketDir, LIVE_SOCKET),
    previewSocket: join(socketDir, PREVIEW_SOCKET),
  };
}

/** `http://host:port`, without `:80`, as users type it. */
export function httpUrl(host: string, port: number): string {
  return port === 80 ? `http://${host}` : `http://${host}:${port}`;
}
