import { posix } from 'node:path';
import type { DeploymentSpec } from '../../spec/deployment-spec';
import { LIVE_SOCKET, PREVIEW_SOCKET } from '../../spec/sockets';
import { headerLines } from '../generated-file';
import type { NginxSite } from './nginx-site';
import { ROUTER_ERRORS, type RouterErrorCode } from './router-errors';
import { adminRoutesHidden, clearShadowHeader, mirroredLocations, shadowUpstream } from './nginx-shadow';

// A unix socket connects at once or not at all; a model answers a full batch well within 30 s.
export const PROXY_CONNECT_TIMEOUT = '2s';
export const PROXY_SEND_TIMEOUT = '30s';
export const PROXY_READ_TIMEOUT = '30s';

const LIVE_UPSTREAM = 'mlbg_live';
const PREVIEW_UPSTREAM = 'mlbg_preview';
const LOG_FORMAT = 'mlbg_json';
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
 * Renders nginx.conf: all live traffic to `<socketDir>/live.sock`, the preview route to
 * `<socketDir>/preview.sock`, each a symlink followed on every new connection, so a switch is one
 * rename and never a reload. Pure: the same spec and site always give the same text.
 */
export function renderNginxConf(spec: DeploymentSpec, site: NginxSite): string {
  const { files } = site;
  const listen = site.listen.host ? `${site.listen.host}:${site.listen.port}` : String(site.listen.port);
  const preview = spec.preview.pathPrefix;
  const tempPaths = files.tempDir === undefined ? [] : TEMP_FOLDERS.map((name) => `${name}_temp_path ${posix.join(files.tempDir ?? '', `${name}_temp`)};`);

  const liveBody = [`proxy_pass http://${LIVE_UPSTREAM};`, ...errorPages('LIVE_UNAVAILABLE')];

  const lines = [
    ...headerLines(site.generatedBy).map((line) => `# ${line}`),
    '#',
    `# Live route: /            -> unix:${site.socketDir}/${LIVE_SOCKET}    (symlink to the live color's socket)`,
    `# Preview:    ${preview.padEnd(12)} -> unix:${site.socketDir}/${PREVIEW_SOCKET} (symlink to the idle color's socket, prefix stripped)`,
    '# No upstream keepalive: every request opens a new connection and so follows the symlink as it is now.',
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
    '  # The service\'s own BODY_LIMIT: nginx must refuse exactly what the service would.',
    `  client_max_body_size ${spec.limits.bodyLimitBytes};`,
    '',
    // One server, never marked down (max_fails=0): a missing socket is answered per request.
    `  upstream ${LIVE_UPSTREAM} {`,
    `    server unix:${site.socketDir}/${LIVE_SOCKET} max_fails=0;`,
    '  }',
    `  upstream ${PREVIEW_UPSTREAM} {`,
    `    server unix:${site.socketDir}/${PREVIEW_SOCKET} max_fails=0;`,
    '  }',
    ...indent(1, spec.shadow.mirror ? shadowUpstream(site.socketDir) : []),
    '',
    '  server {',
    `    listen ${listen};`,
    '    server_name _;',
    '',
    '    proxy_http_version 1.1;',
    '    proxy_set_header Host $host;',
    '    proxy_set_header X-Request-Id $request_id;',
    '    proxy_set_header X-Real-IP $remote_addr;',
    '    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '    proxy_set_header X-Forwarded-Proto $scheme;',
    ...indent(2, clearShadowHeader()),
    `    proxy_connect_timeout ${PROXY_CONNECT_TIMEOUT};`,
    `    proxy_send_timeout ${PROXY_SEND_TIMEOUT};`,
    `    proxy_read_timeout ${PROXY_READ_TIMEOUT};`,
    '    # Never retry elsewhere: a request is answered by the color its route points at, or by a JSON error.',
    '    proxy_next_upstream off;',
    '',
    '    location / {',
    ...indent(3, liveBody),
    '    }',
    '',
    ...(spec.shadow.mirror ? [...indent(2, mirroredLocations(site.socketDir, liveBody)), ''] : []),
    '    # The idle color only, with the prefix stripped: /preview/health -> /health.',
    `    location ${preview} {`,
    `      proxy_pass http://${PREVIEW_UPSTREAM}/;`,
    `      proxy_redirect / ${preview};`,
    `      proxy_set_header X-Forwarded-Prefix ${preview.slice(0, -1)};`,
    ...indent(3, errorPages('PREVIEW_UNAVAILABLE')),
    '    }',
    '',
    ...indent(2, adminRoutesHidden(preview, JSON.stringify({ detail: ROUTER_ERRORS.NOT_ROUTED.message, code: 'NOT_ROUTED' }))),
    '',
    '    # nginx\'s own answers, in the service\'s JSON error shape instead of its HTML pages.',
    ...indent(2, [
      ...errorLocation('LIVE_UNAVAILABLE', site.hints.live),
      '',
      ...errorLocation('PREVIEW_UNAVAILABLE', site.hints.preview),
      '',
      ...errorLocation('UPSTREAM_TIMEOUT'),
      '',
      ...errorLocation('BODY_TOO_LARGE'),
    ]),
    '  }',
    '}',
    '',
  ];
  return lines.join('\n');
}

// error_page is not inherited into a block that sets its own, so each route lists all of them.
function errorPages(unavailable: RouterErrorCode): string[] {
  return [
    `error_page 502 503 = @${unavailable};`,
    'error_page 504 = @UPSTREAM_TIMEOUT;',
    'error_page 413 = @BODY_TOO_LARGE;',
  ];
}

function errorLocation(code: RouterErrorCode, hint?: string): string[] {
  const { status, message } = ROUTER_ERRORS[code];
  const body = JSON.stringify({ detail: hint ? `${message} ${hint}` : message, code });
  // The body sits in a single-quoted nginx string, where these would end it or start a variable.
  if (/['$\\]/.test(body)) throw new Error(`router error ${code} has a character nginx can not quote: ${body}`);
  return [
    `location @${code} {`,
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
