import type { Color } from '@mlbg/contract';

/**
 * The socket folder's layout, shared by the renderers and the runtime. Each color listens on
 * `<color>.sock`; `live.sock` and `preview.sock` are RELATIVE symlinks to them, so they resolve the
 * same in every container that mounts the folder. A switch renames a new symlink over `live.sock`.
 */
export const LIVE_SOCKET = 'live.sock';
/** Symlink to the idle color's socket, reached through the preview route. */
export const PREVIEW_SOCKET = 'preview.sock';
/**
 * Shadow traffic: nginx mirrors live /predict requests to `shadow.sock` when it exists (a symlink to
 * the relay's own socket, made by `deploy:shadow on`, removed by `off`); without it nginx answers
 * its mirror subrequest itself, at once.
 */
export const SHADOW_SOCKET = 'shadow.sock';
/** The shadow relay's own socket (see libs/deploy/src/shadow-relay). */
export const SHADOW_RELAY_SOCKET = 'shadow-relay.sock';
/** Where the socket volume is mounted in every Compose container. */
export const COMPOSE_SOCKET_DIR = '/run/mlbg';
/** The color that is live on a fresh stack, as in the original design. */
export const INITIAL_LIVE_COLOR: Color = 'blue';

/** The file name of a color's own unix socket, e.g. `blue.sock`. */
export function colorSocket(color: Color): string {
  return `${color}.sock`;
}
