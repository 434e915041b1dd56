import { ROUTER_CONNECTIONS } from '@mlbg/contract';
import { posix } from 'node:path';
import type { DeploymentSpec } from '../../spec/deployment-spec';
import { type ProxySpec, internalPaths } from '../../spec/proxy-spec';
import { PREVIEW_LINK, colorReplicaSocket, liveSlotLink } from '../../spec/sockets';
import { headerLines } from '../generated-file';
import type { NginxSite } from './nginx-site';
import { ROUTER_ERRORS, type RouterErrorCode } from './router-errors';
import { liveRouteTarget, liveUpstreamLines, slotChoiceLines } from './live-slots';
import { linkUpstream, linkUpstreamBlock } from './upstream';
import { clearShadowHeader, mirroredLocations, shadowUpstream } from './nginx-shadow';

const LOG_FORMAT = 'mlbg_json';
const RATE_LIMIT_ZONE = 'mlbg_clients';
/** Set by each proxying location: the socket link it goes through, the prefix it strips. */
const SOCKET_VARIABLE = 'mlbg_socket';
const PREFIX_VARIABLE = 'mlbg_prefix';
/**
 * One write(2) per 64 KiB of log lines instead of one per request, and never more than 1 s late
 * (nginx also flushes on reopen and on exit): the bench measured about 16% more requests/s through
 * nginx on 2 cores with the buffer.
 */
const ACCESS_LOG_BUFFERING = 'buffer=64k flush=1s';
const TEMP_FOLDERS = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'] as const;

/** Fields of one JSON access-log line; numbers unquoted, strings quoted. */
const ACCESS_LOG_FIELDS: readonly [name: string, value: string, quoted: boolean][] = [
  ['time', '$time_iso8601', true],
  ['request_id', '$request_id', true],
  ['remote_addr', '$remote_addr', true],
  ['request', '$request', true],
  ['status', '$status', false],
  ['body_bytes_sent', '$body_bytes_sent', false],
  ['request_time', '$request_time', false],
  ['upstream_addr', '$upstream_addr', true],
  ['upstream_status', '$upstream_status', true],
  ['upstream_response_time', '$upstream_response_time', true],
  ['color', '$upstream_http_x_color', true],
  ['model_version', '$upstream_http_x_model_version', true],
];

/**
 * Renders nginx.conf: live traffic over the slot links `<socketDir>/live-slot-NN`, the preview route
 * through `<socketDir>/preview`, each a symlink to a color's folder of replica sockets, followed on
 * every new connection, so a switch is one rename per link and never a reload. Each link is an
 * upstream over its replicas: a request whose replica fails goes on to a sibling of the same color
 * (proxy.retry), never to the other color. With upstream keepalive (the default) connections are
 * kept, and a replica retires those that came through a link that no longer points at its color
 * (ROUTE_SOCKET_HEADER). Pure: the same spec and site always give the same text.
 */
export function renderNginxConf(spec: DeploymentSpec, site: NginxSite): string {
  const { files } = site;
  const listen = site.listen.host ? `${site.listen.host}:${site.listen.port}` : String(site.listen.port);
  const preview = spec.preview.pathPrefix;
  const keepalive = spec.proxy.upstreamKeepalive;
  const tempPaths =
    files.tempDir === undefined ? [] : TEMP_FOLDERS.map((name) => `${name}_temp_path ${posix.join(files.tempDir ?? '', `${name}_temp`)};`);
  const liveTarget = liveRouteTarget(spec);
  const live: Route = {
    upstream: liveTarget.upstream,
    socket: liveTarget.link,
    unavailable: 'LIVE_UNAVAILABLE',
    keepalive,
    rateLimited: spec.proxy.rateLimit !== undefined,
  };
  const previewRoute: Route = {
    ...live,
    upstream: linkUpstream(PREVIEW_LINK),
    socket: PREVIEW_LINK,
    unavailable: 'PREVIEW_UNAVAILABLE',
  };
  const replicas = spec.replicas.perColor;

  const liveBody = proxyTo(live, `http://${live.upstream}`);

  const lines = [
    ...headerLines(site.generatedBy).map((line) => `# ${line}`),
    '#',
    `# Live route: /            -> unix:${site.socketDir}/${liveSlotLink(0).replace('00', 'NN')}/r1.sock ... (${spec.canary.slots} slot symlinks to the colors' folders, by weight)`,
    `# Preview:    ${preview.padEnd(12)} -> unix:${site.socketDir}/${PREVIEW_LINK}/r1.sock ... (symlink to the idle color's folder, prefix stripped)`,
    `# Replicas:   ${replicas} per color (${colorReplicaSocket('blue', 1)} ...); a failed one is retried on a sibling of the same color only.`,
    keepalive
      ? `# Upstream keepalive: each request names its link in ${ROUTER_CONNECTIONS.ROUTE_SOCKET_HEADER}; a replica whose color that link no longer points at answers Connection: close.`
      : '# No upstream keepalive: every request opens a new connection and so follows the symlink as it is now.',
    '',
    `worker_processes ${site.workerProcesses};`,
    `pid ${files.pid};`,
    `error_log ${files.errorLog} warn;`,
    '',
    'events {',
    '  worker_connections 1024;',
    '}',
    '',
    'http {',
    '  server_tokens off;',
    ...indent(1, tempPaths),
    '',
    `  log_format ${LOG_FORMAT} escape=json`,
    ...ACCESS_LOG_FIELDS.map(([name, value, quoted], index) => {
      const open = index === 0 ? '{' : ',';
      const close = index === ACCESS_LOG_FIELDS.length - 1 ? '}' : '';
      const json = quoted ? `"${name}":"${value}"` : `"${name}":${value}`;
      return `    '${open}${json}${close}'${close ? ';' : ''}`;
    }),
    `  access_log ${files.accessLog} ${LOG_FORMAT} ${ACCESS_LOG_BUFFERING};`,
    '',
    "  # The service's own BODY_LIMIT: nginx must refuse exactly what the service would.",
    `  client_max_body_size ${spec.limits.bodyLimitBytes};`,
    ...indent(1, rateLimitZone(spec.proxy)),
    '',
    ...indent(1, slotChoiceLines(spec)),
    ...indent(1, liveUpstreamLines(spec, site.socketDir, keepalive)),
    ...indent(1, linkUpstreamBlock(site.socketDir, PREVIEW_LINK, replicas, keepalive)),
    ...indent(1, spec.shadow.mirror ? shadowUpstream(site.socketDir) : []),
    '',
    '  server {',
    `    listen ${listen};`,
    '    server_name _;',
    '',
    '    proxy_http_version 1.1;',
    ...indent(2, proxyHeaders(keepalive)),
    ...indent(2, clearShadowHeader()),
    ...indent(2, proxyTimeouts(spec.proxy)),
    ...indent(2, retryLines(spec.proxy)),
    ...indent(2, rateLimitRule(spec.proxy)),
    '    # What nginx refuses while reading a request, before any location is chosen; a 404 of its own',
    '    # is only for a client asking for one of the internal error URIs below.',
    ...indent(2, [...requestErrorPages(), `error_page 404 = ${requestErrorUri('NOT_FOUND')};`]),
    '',
    '    location / {',
    ...indent(3, liveBody),
    '    }',
    '',
    ...(spec.shadow.mirror ? [...indent(2, mirroredLocations(site.socketDir, liveBody)), ''] : []),
    '    # The idle color only, with the prefix stripped: /preview/health -> /health.',
    `    location ${preview} {`,
    ...indent(3, proxyTo(previewRoute, `http://${previewRoute.upstream}/`, preview.slice(0, -1))),
    `      proxy_redirect / ${preview};`,
    '    }',
    ...indent(2, internalRoutes(spec.proxy, live, '/')),
    ...indent(2, internalRoutes(spec.proxy, previewRoute, preview)),
    '',
    "    # nginx's own answers, in the service's JSON error shape instead of its HTML pages.",
    ...indent(2, routerErrorLocations(site, spec.proxy)),
    '  }',
    '}',
    '',
  ];
  return lines.join('\n');
}

/** One public route: its upstream and the link it proxies through (names or nginx expressions), and its 503 answer. */
interface Route {
  readonly upstream: string;
  readonly socket: string;
  readonly unavailable: RouterErrorCode;
  readonly keepalive: boolean;
  readonly rateLimited: boolean;
}

/**
 * The headers every color gets, set once for the server. The socket link and the stripped prefix
 * come from variables each route sets; an empty one is not sent at all.
 */
function proxyHeaders(keepalive: boolean): string[] {
  return [
    `set $${SOCKET_VARIABLE} "";`,
    `set $${PREFIX_VARIABLE} "";`,
    'proxy_set_header Host $host;',
    'proxy_set_header X-Request-Id $request_id;',
    'proxy_set_header X-Real-IP $remote_addr;',
    'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    'proxy_set_header X-Forwarded-Proto $scheme;',
    `proxy_set_header X-Forwarded-Prefix $${PREFIX_VARIABLE};`,
    // Keep the connection (nginx sends `Connection: close` otherwise) and name the link it goes through.
    ...(keepalive
      ? ['proxy_set_header Connection "";', `proxy_set_header ${ROUTER_CONNECTIONS.ROUTE_SOCKET_HEADER} $${SOCKET_VARIABLE};`]
      : []),
  ];
}

/** The body of a location that proxies to `route`. */
function proxyTo(route: Route, target: string, prefix?: string): string[] {
  return [
    `set $${SOCKET_VARIABLE} ${route.socket};`,
    ...(prefix ? [`set $${PREFIX_VARIABLE} ${prefix};`] : []),
    `proxy_pass ${target};`,
    ...errorPages(route),
  ];
}

// error_page is not inherited into a block that sets its own, so each route lists all of them.
function errorPages(route: Route): string[] {
  return [
    `error_page 502 503 = @${route.unavailable};`,
    'error_page 504 = @UPSTREAM_TIMEOUT;',
    'error_page 413 = @BODY_TOO_LARGE;',
    ...requestErrorPages(),
    ...(route.rateLimited ? ['error_page 429 = @RATE_LIMITED;'] : []),
  ];
}

/**
 * Errors nginx finds while reading the request line or headers, when the request may have no URI
 * yet: nginx can not go to a named location then ("empty URI"), so these go to internal URIs.
 * 494 is nginx's own code for a header over `large_client_header_buffers`.
 */
const REQUEST_ERRORS: readonly RouterErrorCode[] = ['BAD_REQUEST', 'URI_TOO_LONG', 'HEADERS_TOO_LARGE', 'NOT_FOUND'];
const REQUEST_ERROR_STATUSES: readonly [number, RouterErrorCode][] = [
  [400, 'BAD_REQUEST'],
  [414, 'URI_TOO_LONG'],
  [494, 'HEADERS_TOO_LARGE'],
];
const ERROR_URI_PREFIX = '/.mlbg-router-error/';

function requestErrorUri(code: RouterErrorCode): string {
  return `${ERROR_URI_PREFIX}${code}`;
}

function requestErrorPages(): string[] {
  return REQUEST_ERROR_STATUSES.map(([status, code]) => `error_page ${status} = ${requestErrorUri(code)};`);
}

/**
 * Internal paths (/metrics, admin routes) on a public route: only for the allowed client
 * addresses (everyone else gets a JSON 404), or not at all when `public` is set.
 */
function internalRoutes(proxy: ProxySpec, route: Route, prefix: string): string[] {
  const { allow } = proxy.internalRoutes;
  return internalPaths(proxy).flatMap((path) => {
    const exact = !path.endsWith('/');
    const routePath = `${prefix.slice(0, -1)}${path}`;
    const body = (location: string, upstreamPath: string) => [
      `location ${location} {`,
      ...allow.map((address) => `  allow ${address};`),
      '  deny all;',
      '  error_page 403 = @INTERNAL_ROUTE;',
      ...indent(
        1,
        proxyTo(route, `http://${route.upstream}${prefix === '/' ? '' : upstreamPath}`, prefix === '/' ? undefined : prefix.slice(0, -1)),
      ),
      '}',
    ];
    return [
      '',
      `# Internal: ${routePath} ${allow.length > 0 ? `only for ${allow.join(', ')}` : 'for no client'} (spec proxy.internalRoutes).`,
      ...(exact
        ? body(`= ${routePath}`, path)
        : [...body(`^~ ${routePath}`, path), ...body(`= ${routePath.slice(0, -1)}`, path.slice(0, -1))]),
    ];
  });
}

/**
 * Retries, for every route (each route's upstream holds the replicas of ONE color, so a retry never
 * gives a client the other model version): a connection refused or reset, or no answer within the
 * timeouts, goes to one more replica. POST too (`non_idempotent`): /predict and V2 infer have no
 * side effect, so a request sent again is answered as the first would have been.
 */
function retryLines(proxy: ProxySpec): string[] {
  const { tries, withinSeconds } = proxy.retry;
  if (tries === 1)
    return ['# Never retried (spec proxy.retry.tries 1): a failed replica is answered with a JSON error.', 'proxy_next_upstream off;'];
  return [
    '# A failed replica: the request goes to a sibling of the same color (spec proxy.retry); /predict has no side effect.',
    'proxy_next_upstream error timeout non_idempotent;',
    `proxy_next_upstream_tries ${tries};`,
    `proxy_next_upstream_timeout ${withinSeconds}s;`,
  ];
}

/**
 * For every route (the server's, inherited by each location): a color that does not answer within
 * `readSeconds` gets the JSON 504 UPSTREAM_TIMEOUT (error_page 504 in each route).
 */
function proxyTimeouts(proxy: ProxySpec): string[] {
  const { connectSeconds, sendSeconds, readSeconds } = proxy.timeouts;
  return [
    '# Towards the colors (spec proxy.timeouts); a hung color is answered with the JSON 504 after the read timeout.',
    `proxy_connect_timeout ${connectSeconds}s;`,
    `proxy_send_timeout ${sendSeconds}s;`,
    `proxy_read_timeout ${readSeconds}s;`,
  ];
}

function rateLimitZone(proxy: ProxySpec): string[] {
  if (!proxy.rateLimit) return [];
  return [
    '',
    '# Per client address (spec proxy.rateLimit).',
    `limit_req_zone $binary_remote_addr zone=${RATE_LIMIT_ZONE}:10m rate=${proxy.rateLimit.requestsPerSecond}r/s;`,
  ];
}

function rateLimitRule(proxy: ProxySpec): string[] {
  if (!proxy.rateLimit) return [];
  // nginx refuses `burst=0`: no burst is written as none at all.
  const burst = proxy.rateLimit.burst > 0 ? ` burst=${proxy.rateLimit.burst} nodelay` : '';
  return [`limit_req zone=${RATE_LIMIT_ZONE}${burst};`, 'limit_req_status 429;'];
}

function routerErrorLocations(site: NginxSite, proxy: ProxySpec): string[] {
  const codes: [RouterErrorCode, string?][] = [
    ['LIVE_UNAVAILABLE', site.hints.live],
    ['PREVIEW_UNAVAILABLE', site.hints.preview],
    ['UPSTREAM_TIMEOUT'],
    ['BODY_TOO_LARGE'],
    ['BAD_REQUEST'],
    ['URI_TOO_LONG'],
    ['HEADERS_TOO_LARGE'],
    ['NOT_FOUND'],
    ...(proxy.internalRoutes.public ? [] : [['INTERNAL_ROUTE'] as [RouterErrorCode]]),
    ...(proxy.rateLimit ? [['RATE_LIMITED'] as [RouterErrorCode]] : []),
  ];
  return codes.flatMap(([code, hint], index) => [...(index === 0 ? [] : ['']), ...errorLocation(code, hint)]);
}

function errorLocation(code: RouterErrorCode, hint?: string): string[] {
  const { status, message } = ROUTER_ERRORS[code];
  const head = REQUEST_ERRORS.includes(code) ? `location = ${requestErrorUri(code)} {\n  internal;` : `location @${code} {`;
  const body = JSON.stringify({ detail: hint ? `${message} ${hint}` : message, code });
  // The body sits in a single-quoted nginx string, where these would end it or start a variable.
  if (/['$\\]/.test(body)) throw new Error(`router error ${code} has a character nginx can not quote: ${body}`);
  return [
    ...head.split('\n'),
    '  types { }',
    '  default_type application/json;',
    '  add_header X-Request-Id $request_id always;',
    `  return ${status} '${body}';`,
    '}',
  ];
}

function indent(level: number, lines: readonly string[]): string[] {
  return lines.map((line) => (line === '' ? line : `${'  '.repeat(level)}${line}`));
}
