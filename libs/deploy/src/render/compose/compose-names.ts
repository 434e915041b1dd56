import type { Color } from '@mlbg/contract';
import { COMPOSE_SOCKET_DIR } from '../../spec/sockets';

/** The committed Compose files, at the workspace root as in the original design. */
export const COMPOSE_BASE_FILE = 'docker-compose.yml';
/** The Compose file that adds one color. */
export function composeColorFile(color: Color): string {
  return `docker-compose.${color}.yml`;
}
/** The committed nginx config the Compose `nginx` service mounts. */
export const COMPOSE_NGINX_CONF = 'deploy/nginx/nginx.conf';
/**
 * Where the Compose nginx writes its JSON access log on the host (a bind mount, relative to the
 * Compose files), so the dashboard's nginx chart line (and a canary's analysis) can read what
 * clients saw, as on the local stack. The official image's own /var/log/nginx/access.log is its stdout.
 */
export const COMPOSE_NGINX_LOG_DIR = 'deploy/logs/nginx';
/** The same folder inside the nginx container. */
export const COMPOSE_NGINX_LOG_MOUNT = '/var/log/mlbg';
/** nginx's JSON access log in its container (on the bind mount). */
export const COMPOSE_ACCESS_LOG = `${COMPOSE_NGINX_LOG_MOUNT}/access.log`;
/** The original design's start command, unchanged. */
export const COMPOSE_UP_COMMAND =
  'docker-compose -f docker-compose.yml -f docker-compose.blue.yml -f docker-compose.green.yml up --build -d';
/**
 * The env var that picks a color's model in Compose (the path inside the image), so a release can
 * change the idle color's model and a new image keeps each color's model unless told otherwise.
 */
export const COLOR_MODEL_VARIABLES = { blue: 'BLUE_MODEL', green: 'GREEN_MODEL' } as const satisfies Record<Color, string>;

/**
 * The shadow relay's Compose service and container: always running (its restart policy), idle
 * until `deploy:shadow on` links nginx's `shadow.sock` to its socket in the volume.
 */
export const COMPOSE_RELAY_SERVICE = 'shadow-relay';
export const COMPOSE_RELAY_CONTAINER = 'ml-shadow-relay';
/**
 * The relay's private folder in its own /tmp (a tmpfs): its control socket (0600, in a 0700 folder)
 * and its capture files. Nothing outside the container reaches it: the deploy tool goes through `docker exec`.
 */
export const COMPOSE_RELAY_DIR = '/tmp/relay';
export const COMPOSE_RELAY_CONTROL_SOCKET = `${COMPOSE_RELAY_DIR}/control.sock`;
/**
 * Where the relay keeps the percent `deploy:shadow on` set: in the socket volume, since its /tmp is
 * new after each restart by its policy (a tmpfs) and its root is read-only. `down -v` forgets it.
 */
export const COMPOSE_RELAY_STATE_FILE = `${COMPOSE_SOCKET_DIR}/shadow-relay-state.json`;
