import type { Color } from '@mlbg/contract';

/** The committed Compose files, at the workspace root as in the original design. */
export const COMPOSE_BASE_FILE = 'docker-compose.yml';
/** The Compose file that adds one color. */
export function composeColorFile(color: Color): string {
  return `docker-compose.${color}.yml`;
}
/** The committed nginx config the Compose `nginx` service mounts. */
export const COMPOSE_NGINX_CONF = 'deploy/nginx/nginx.conf';
/** The original design's start command, unchanged. */
export const COMPOSE_UP_COMMAND =
  'docker-compose -f docker-compose.yml -f docker-compose.blue.yml -f docker-compose.green.yml up --build -d';
