import type { Color } from '@mlbg/contract';

/**
 * The socket folder's layout, shared by the renderers and the runtime.
 *
 * Each color has a folder (`blue/`) holding one socket per replica (`blue/r1.sock`, `blue/r2.sock`).
 * A route is a RELATIVE symlink to a color's folder (`live-slot-07 -> blue`, `preview -> green`), so
 * it resolves the same in every container that mounts the folder, and nginx reaches a replica as
 * `<link>/r2.sock`: every replica nginx can reach through one link is of the same color. A switch
 * renames a new link over the old one: all replicas of a slot move at once.
 */
export const LIVE_LINK = 'live';
/** Link to the idle color's folder, reached through the preview route. */
export const PREVIEW_LINK = 'preview';
/**
 * Link to the canary color's folder during a canary (the live color's otherwise): where a sticky
 * request whose value is on the spec's allow-list (`canary.sticky.canaryValues`) goes.
 */
export const CANARY_LINK = 'canary';
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

/** The folder of a color's replica sockets, e.g. `blue`: what every route link points at. */
export function colorFolder(color: Color): string {
  return color;
}

/** The file name of replica `replica` (1-based) in its color's folder, e.g. `r2.sock`. */
export function replicaSocket(replica: number): string {
  return `r${replica}.sock`;
}

/** A replica's socket relative to the socket folder, e.g. `blue/r2.sock`. */
export function colorReplicaSocket(color: Color, replica: number): string {
  return `${colorFolder(color)}/${replicaSocket(replica)}`;
}

/** The replica numbers of a color of `count` replicas: 1, 2, ... */
export function replicaNumbers(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index + 1);
}

/** How many slot links the live route spreads over by default: 20 = weights in 5% steps. */
export const DEFAULT_LIVE_SLOTS = 20;

/**
 * The file name of the live route's slot `index` (0-based), e.g. `live-slot-07`: a RELATIVE
 * symlink to a color's folder, beside the color folders. nginx picks one slot per request (at
 * random, or by the sticky key), so the share of slots on a color is its weight; each slot is an
 * upstream of its own over `live-slot-07/r1.sock`, `live-slot-07/r2.sock`, ..., so a retry never
 * leaves the slot's color.
 */
export function liveSlotLink(index: number): string {
  return `${LIVE_SLOT_PREFIX}${slotNumber(index)}`;
}

/** What every slot link's name starts with; the slot's number follows. */
export const LIVE_SLOT_PREFIX = 'live-slot-';

/** The slot's two-digit number, e.g. `07`: what nginx's slot variable holds. */
export function slotNumber(index: number): string {
  return String(index).padStart(2, '0');
}
