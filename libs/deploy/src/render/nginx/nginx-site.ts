import type { DeploymentSpec } from '../../spec/deployment-spec';
import { COMPOSE_SOCKET_DIR } from '../../spec/sockets';
import { GENERATE_COMMAND } from '../generated-file';
import { COMPOSE_ACCESS_LOG, COMPOSE_UP_COMMAND } from '../compose/compose-names';

/** Files nginx writes. Relative paths are resolved by nginx against its `-p` prefix. */
export interface NginxFiles {
  readonly pid: string;
  readonly errorLog: string;
  readonly accessLog: string;
  /** Parent of the five temp folders; omitted = nginx's compiled-in defaults. */
  readonly tempDir?: string;
}

/** Where an nginx config runs: everything the renderer needs besides the spec. */
export interface NginxSite {
  /** Absolute folder of the route links (`live-slot-07`, `preview`: symlinks to the color folders) and the color folders. */
  readonly socketDir: string;
  /** `listen` address; no host = every interface. */
  readonly listen: { readonly host?: string; readonly port: number };
  readonly files: NginxFiles;
  readonly workerProcesses: number | 'auto';
  /** Told to users in nginx's own 503 answers: how to start the live / the idle color here. */
  readonly hints: { readonly live: string; readonly preview: string };
  /** The command named in the "do not edit" header. */
  readonly generatedBy: string;
}

/**
 * Local mode: every file nginx writes lives directly under its `-p` prefix folder (which the
 * runtime creates), so it runs the same as root or not. `daemon` is left to the command line.
 */
export const LOCAL_NGINX_FILES: NginxFiles = {
  pid: 'nginx.pid',
  errorLog: 'error.log',
  accessLog: 'access.log',
  tempDir: '.',
};

const LOCAL_HOST = '127.0.0.1';
const LOCAL_WORKER_PROCESSES = 1;
const LOCAL_UP_COMMAND = 'npx nx run deploy:up';
const RELEASE_COMMAND = 'npx nx run deploy:release';

/**
 * The site for a local nginx started by the runtime, listening on loopback.
 * @param options.socketDir absolute folder of the sockets (must be traversable by nginx's workers)
 * @param options.port defaults to the spec's router port
 */
export function localNginxSite(
  spec: DeploymentSpec,
  options: { readonly socketDir: string; readonly host?: string; readonly port?: number },
): NginxSite {
  return {
    socketDir: options.socketDir,
    listen: { host: options.host ?? LOCAL_HOST, port: options.port ?? spec.router.port },
    files: LOCAL_NGINX_FILES,
    workerProcesses: LOCAL_WORKER_PROCESSES,
    hints: {
      live: `Start the stack with \`${LOCAL_UP_COMMAND}\` and check it with \`npx nx run deploy:status\`.`,
      preview: `Start it with \`${LOCAL_UP_COMMAND}\`, or deploy a new version to it with \`${RELEASE_COMMAND}\`.`,
    },
    generatedBy: LOCAL_UP_COMMAND.replace(/^npx /, ''),
  };
}

/** The site for the `nginx` Compose service (official image paths, sockets in the shared volume). */
export function composeNginxSite(spec: DeploymentSpec): NginxSite {
  return {
    socketDir: COMPOSE_SOCKET_DIR,
    listen: { port: spec.router.port },
    // The access log in the bind-mounted log folder (read on the host); errors stay on the container's stderr.
    files: { pid: '/var/run/nginx.pid', errorLog: '/var/log/nginx/error.log', accessLog: COMPOSE_ACCESS_LOG },
    workerProcesses: 'auto',
    hints: {
      live: `Start the stack with \`${COMPOSE_UP_COMMAND}\`.`,
      preview: `Start it with \`${COMPOSE_UP_COMMAND}\`.`,
    },
    generatedBy: GENERATE_COMMAND,
  };
}
