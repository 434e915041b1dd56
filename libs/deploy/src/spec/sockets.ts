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
/** The shadow relay's own socket (see libs/deploy/src/backends/local/shadow/relay). */
export const SHADOW_RELAY_SOCKET = 'shadow-relay.sock';
/** The relay's own status route (its counters), on its socket or port: what probes and `deploy:shadow status` ask. */
export const RELAY_STATUS_PATH = '/_relay/status';
/** Where the socket volume is mounted in every Compose container. */
export const COMPOSE_SOCKET_DIR = '/run/mlbg';
/** The color that is live on a fresh stack, as in the original design. */
export const INITIAL_LIVE_COLOR: Color = 'blue';

/** The file name of a color's own unix socket, e.g. `blue.sock`. */
export function colorSocket(color: Color): string {
  return `${color}.sock`;
}

/** How many slot sockets the live route round-robins over by default: 20 = weights in 5% steps. */
export const DEFAULT_LIVE_SLOTS = 20;

/**
 * The file name of the live route's slot `index` (0-based), e.g. `live-slot-07.sock`: a RELATIVE
 * symlink to a color's socket, in the same folder as the colors' sockets. nginx's live upstream
 * round-robins (or hashes) over every slot, so the share of slots on a color is its weight.
 */
export function liveSlotSocket(index: number): string {
  return `live-slot-${String(index).padStart(2, '0')}.sock`;
}

/**
 * Every slot link, as nginx names them to a color on a kept live connection (it can not say
 * which slot a request took): the color keeps the connection only while all of them point at it.
 */
export const LIVE_SLOT_PATTERN = 'live-slot-*.sock';

/**
 * Symlink to the canary color's socket during a canary (the live color's otherwise): where a
 * sticky request whose value is on the spec's allow-list (`canary.sticky.canaryValues`) goes.
 */
export const CANARY_SOCKET = 'canary.sock';
