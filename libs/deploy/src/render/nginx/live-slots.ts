import type { DeploymentSpec } from '../../spec/deployment-spec';
import { CANARY_LINK, LIVE_SLOT_PREFIX, liveSlotLink, slotNumber } from '../../spec/sockets';
import { linkUpstream, linkUpstreamBlock } from './upstream';

/**
 * The weighted live route: nginx picks one of `canary.slots` slot links per request with
 * `split_clients` (at random by the request id, or by the sticky header or cookie), and proxies to
 * that slot's own upstream of replica sockets. Each slot link points at one color's folder, so a
 * weight moves by renaming slot links and never by a reload, a request names the very link it goes
 * through (its kept connection is retired when that link moves), and a retry on another replica
 * stays in the slot, that is in the same color.
 */

/** The slot's two-digit number for this request, set by split_clients. */
const SLOT_VARIABLE = '$mlbg_slot';
/** The link `location /` goes through when sticky allow-list values exist (a slot, or `canary`). */
const LIVE_LINK_VARIABLE = '$mlbg_live_link';
const STICKY_KEY_VARIABLE = '$mlbg_sticky_key';
/** The slot link this request takes, e.g. `live-slot-07`. */
const SLOT_LINK = `${LIVE_SLOT_PREFIX}${SLOT_VARIABLE}`;

/** The nginx variable holding the sticky value, e.g. `$http_x_user_id` or `$cookie_uid`. */
function stickyValue(sticky: NonNullable<DeploymentSpec['canary']['sticky']>): string | undefined {
  if (sticky.header) return `$http_${sticky.header.toLowerCase().replace(/-/g, '_')}`;
  if (sticky.cookie) return `$cookie_${sticky.cookie}`;
  return undefined;
}

/** `map` and `split_clients` blocks (http level): which slot (or the canary) a request takes. */
export function slotChoiceLines(spec: DeploymentSpec): string[] {
  const { slots, sticky } = spec.canary;
  const value = sticky ? stickyValue(sticky) : undefined;
  const share = `${100 / slots}%`;
  const split = [
    `split_clients "${value ? STICKY_KEY_VARIABLE : '$request_id'}" ${SLOT_VARIABLE} {`,
    ...Array.from({ length: slots }, (_, index) => `  ${index === slots - 1 ? '*' : share} ${slotNumber(index)};`),
    '}',
  ];
  if (!sticky || !value)
    return ['# Each request takes one slot link at random (by its request id): a weight is a share of slots.', ...split, ''];
  return [
    "# Sticky: the client's value picks the slot; a request without one takes one by its request id.",
    `map ${value} ${STICKY_KEY_VARIABLE} {`,
    '  "" $request_id;',
    `  default ${value};`,
    '}',
    ...split,
    ...(sticky.canaryValues.length === 0
      ? []
      : [
          '# Testers on the allow-list always reach the canary color.',
          `map ${value} ${LIVE_LINK_VARIABLE} {`,
          `  default ${SLOT_LINK};`,
          ...sticky.canaryValues.map((allowed) => `  "${allowed}" ${CANARY_LINK};`),
          '}',
        ]),
    '',
  ];
}

/** One upstream per slot link (and the canary link's when the allow-list needs it), each over the replicas. */
export function liveUpstreamLines(spec: DeploymentSpec, socketDir: string, keepalive: boolean): string[] {
  const { slots, sticky } = spec.canary;
  const replicas = spec.replicas.perColor;
  const upstream = (link: string) => linkUpstreamBlock(socketDir, link, replicas, keepalive);
  return [
    ...Array.from({ length: slots }, (_, index) => upstream(liveSlotLink(index))).flat(),
    ...(hasAllowList(spec) && sticky ? upstream(CANARY_LINK) : []),
  ];
}

/**
 * What the live route proxies through: the link a request goes through (named to the color in
 * its header) and that link's upstream, both nginx expressions of the request's slot.
 */
export function liveRouteTarget(spec: DeploymentSpec): { readonly link: string; readonly upstream: string } {
  if (hasAllowList(spec)) return { link: LIVE_LINK_VARIABLE, upstream: linkUpstream(LIVE_LINK_VARIABLE) };
  return { link: SLOT_LINK, upstream: linkUpstream(SLOT_LINK) };
}

function hasAllowList(spec: DeploymentSpec): boolean {
  const sticky = spec.canary.sticky;
  return sticky !== undefined && stickyValue(sticky) !== undefined && sticky.canaryValues.length > 0;
}
