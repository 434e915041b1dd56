import { SHADOW_HEADER } from '@mlbg/contract';
import { SHADOW_RELAY_SOCKET, SHADOW_SOCKET } from '../../spec/sockets';

/**
 * Shadow traffic and the colors' admin routes in nginx.conf (kept apart from the route renderer).
 *
 * nginx's `mirror` holds the client's request until the mirror subrequest is answered, so the
 * mirror location proxies to `shadow.sock` when it exists (a link to the shadow relay, which answers
 * at once and forwards later) and answers 204 itself when it does not (shadow off). Turning shadow on
 * or off is creating or removing that link: never a reload. Tried first and dropped: an `if (-e ...)`
 * (nginx 1.22 then never proxied the mirror subrequest), and a plain failing connect (a [crit] line
 * per live request: a location's error_log does not apply to subrequests).
 */

export const SHADOW_UPSTREAM = 'mlbg_shadow';
const MIRROR_URI = '/.mlbg-shadow';
/** The relay answers after reading the body; these only cap the damage if it hangs. */
const MIRROR_CONNECT_TIMEOUT = '100ms';
const MIRROR_TIMEOUT = '1s';
/** The Open Inference Protocol's inference route, mirrored as /predict is. */
const V2_INFER_PATTERN = '^/v2/models/[^/]+(/versions/[^/]+)?/infer$';

/** The relay's upstream (no keepalive: a connection per copy to a local socket costs little). */
export function shadowUpstream(socketDir: string): string[] {
  return [`upstream ${SHADOW_UPSTREAM} {`, `  server unix:${socketDir}/${SHADOW_SOCKET} max_fails=0;`, '}'];
}

/** Server-level: a client can never mark its own live request as shadow. */
export function clearShadowHeader(): string[] {
  return [`proxy_set_header ${SHADOW_HEADER} "";`];
}

/**
 * The live locations that are mirrored (exact /predict and V2 infer), each with the live route's
 * own body, and the internal mirror location.
 * @param liveBody the directives of the live `location /` (proxy_pass, error pages)
 */
export function mirroredLocations(socketDir: string, liveBody: readonly string[]): string[] {
  const mirrored = (match: string) => [
    `location ${match} {`,
    `  mirror ${MIRROR_URI};`,
    '  mirror_request_body on;',
    ...liveBody.map((line) => `  ${line}`),
    '}',
  ];
  return [
    `# Live /predict and V2 infer, also copied to the shadow relay while ${SHADOW_SOCKET} exists (deploy:shadow on).`,
    ...mirrored('= /predict'),
    ...mirrored(`~ ${V2_INFER_PATTERN}`),
    '',
    `# The copy: to the relay (${SHADOW_SOCKET} -> ${SHADOW_RELAY_SOCKET}), which answers before it forwards; while the link is`,
    `# missing (shadow off) nginx answers it itself at once (one stat, no connection, no error line).`,
    `location = ${MIRROR_URI} {`,
    '  internal;',
    `  root ${socketDir};`,
    `  try_files /${SHADOW_SOCKET} =204;`,
    `  proxy_pass http://${SHADOW_UPSTREAM}$request_uri;`,
    // A location that sets proxy_set_header inherits none from the server: these are all it sends.
    '  proxy_set_header Host $host;',
    '  proxy_set_header X-Request-Id $request_id;',
    `  proxy_set_header ${SHADOW_HEADER} 1;`,
    `  proxy_connect_timeout ${MIRROR_CONNECT_TIMEOUT};`,
    `  proxy_send_timeout ${MIRROR_TIMEOUT};`,
    `  proxy_read_timeout ${MIRROR_TIMEOUT};`,
    '}',
  ];
}
