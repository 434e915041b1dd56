import type { DeploymentSpec } from '../../spec/deployment-spec';
import { CANARY_SOCKET, liveSlotSocket } from '../../spec/sockets';
import { keepaliveLines, upstreamBlock } from './upstream';

/**
 * The weighted live route (issue #13): the live upstream round-robins over `canary.slots` slot
 * sockets, each a symlink to a color's socket, so a weight moves by renaming slot links and never
 * by a reload. With `canary.sticky` a request's header or cookie is hashed over the slots instead
 * (consistently), and the allow-listed values go to `canary.sock`.
 */

export const LIVE_UPSTREAM = 'mlbg_live';
export const CANARY_UPSTREAM = 'mlbg_canary';
/** The variable `location /` proxies to when sticky allow-list values exist (an upstream's name). */
const LIVE_TARGET_VARIABLE = '$mlbg_live_upstream';
const STICKY_KEY_VARIABLE = '$mlbg_sticky_key';

/** The nginx variable holding the sticky value, e.g. `$http_x_user_id` or `$cookie_uid`. */
function stickyValue(sticky: NonNullable<DeploymentSpec['canary']['sticky']>): string | undefined {
  if (sticky.header) return `$http_${sticky.header.toLowerCase().replace(/-/g, '_')}`;
  if (sticky.cookie) return `$cookie_${sticky.cookie}`;
  return undefined;
}

/** `map` blocks (http level) for sticky hashing; none without `canary.sticky`. */
export function stickyMapLines(spec: DeploymentSpec): string[] {
  const sticky = spec.canary.sticky;
  const value = sticky ? stickyValue(sticky) : undefined;
  if (!sticky || !value) return [];
  return [
    "# Sticky: hash the client's value over the slots; a request without one is spread by its request id.",
    `map ${value} ${STICKY_KEY_VARIABLE} {`,
    '  "" $request_id;',
    `  default ${value};`,
    '}',
    ...(sticky.canaryValues.length === 0
      ? []
      : [
          '# Testers on the allow-list always reach the canary color.',
          `map ${value} ${LIVE_TARGET_VARIABLE} {`,
          `  default ${LIVE_UPSTREAM};`,
          ...sticky.canaryValues.map((allowed) => `  "${allowed}" ${CANARY_UPSTREAM};`),
          '}',
        ]),
    '',
  ];
}

/** The live upstream over every slot (and the canary upstream when the allow-list needs it). */
export function liveUpstreamLines(spec: DeploymentSpec, socketDir: string, keepalive: boolean): string[] {
  const { slots, sticky } = spec.canary;
  const hash = sticky && stickyValue(sticky) ? [`  hash ${STICKY_KEY_VARIABLE} consistent;`] : [];
  // Never marked down (max_fails=0): a slot whose color is gone is answered per request.
  const servers = Array.from({ length: slots }, (_, index) => `  server unix:${socketDir}/${liveSlotSocket(index)} max_fails=0;`);
  const canary = sticky && sticky.canaryValues.length > 0 ? upstreamBlock(CANARY_UPSTREAM, `${socketDir}/${CANARY_SOCKET}`, keepalive) : [];
  return [`upstream ${LIVE_UPSTREAM} {`, ...hash, ...servers, ...keepaliveLines(keepalive), '}', ...canary];
}

/** What `location /` proxies to: the live upstream, or the allow-list's choice of upstream. */
export function liveProxyTarget(spec: DeploymentSpec): string {
  const sticky = spec.canary.sticky;
  return sticky && stickyValue(sticky) && sticky.canaryValues.length > 0 ? LIVE_TARGET_VARIABLE : LIVE_UPSTREAM;
}
