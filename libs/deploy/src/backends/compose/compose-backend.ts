import { Color, otherColor } from '@mlbg/contract';
import { ROUTER_SERVICE, colorService } from '../../render/compose/compose';
import { COMPOSE_BASE_FILE, composeColorFile } from '../../render/compose/compose-names';
import { COMPOSE_SOCKET_DIR, LIVE_SOCKET, PREVIEW_SOCKET, colorSocket } from '../../spec/sockets';
import type { DeploymentSpec } from '../../spec/deployment-spec';
import type { CommandRunner, HttpAnswer, HttpClient } from '../../effects/deps';
import { DeployError } from '../../errors';
import { type HistoryEntry, lastAttempt, lastSuccessfulSwitch, readHistory } from '../../effects/history';
import { type StackLayout, httpUrl } from '../local/layout';
import { type HealthView, healthView, viewOf } from '../local/status';
import type { SwitchBackend } from '../../commands/switch';

/** The original design's three Compose files, in its order. */
export const COMPOSE_FILES: readonly string[] = [COMPOSE_BASE_FILE, composeColorFile('blue'), composeColorFile('green')];
const COMMAND_TIMEOUT_MS = 30_000;

/**
 * Runs inside a color's container (the image has node, not curl): one request to a unix socket,
 * printed as one JSON line `{status, headers, body}`. Arguments: socket, method, path, [body].
 */
export const SOCKET_PROBE_SCRIPT = [
  "const [socketPath, method, path, body] = process.argv.slice(1);",
  "const req = require('http').request({ socketPath, method, path, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {",
  "  let text = ''; res.setEncoding('utf8'); res.on('data', (chunk) => (text += chunk));",
  "  res.on('end', () => console.log(JSON.stringify({ status: res.statusCode, headers: res.headers, body: text })));",
  "});",
  "req.setTimeout(5000, () => req.destroy(new Error('no answer within 5000 ms')));",
  "req.on('error', (error) => { console.error(error.message); process.exitCode = 3; });",
  "req.end(body);",
].join('\n');

export interface ComposeTarget {
  readonly spec: DeploymentSpec;
  readonly run: CommandRunner;
  readonly http: HttpClient;
  readonly workspaceRoot: string;
  /** `['docker', 'compose']` or `['docker-compose']`. */
  readonly composeCommand: readonly string[];
}

/**
 * `docker compose` (v2) if it works, else `docker-compose` (v1, as the original design used);
 * `override` (BLUEGREEN_COMPOSE_COMMAND) wins.
 * @throws DeployError DOCKER_NOT_FOUND
 */
export async function detectComposeCommand(run: CommandRunner, override?: string): Promise<string[]> {
  if (override && override.trim() !== '') return override.trim().split(/\s+/);
  const v2 = await run('docker', ['compose', 'version'], { timeoutMs: COMMAND_TIMEOUT_MS });
  if (v2.code === 0) return ['docker', 'compose'];
  const v1 = await run('docker-compose', ['version'], { timeoutMs: COMMAND_TIMEOUT_MS });
  if (v1.code === 0) return ['docker-compose'];
  throw new DeployError('DOCKER_NOT_FOUND', `\`docker compose version\`: ${v2.error ?? v2.stderr.trim()}; \`docker-compose version\`: ${v1.error ?? v1.stderr.trim()}.`);
}

/** The command and arguments of `<compose> -f ... -f ... -f ... <args>`. Pure. */
export function composeInvocation(target: Pick<ComposeTarget, 'composeCommand'>, args: readonly string[]): [string, string[]] {
  const [command, ...prefix] = target.composeCommand;
  return [command ?? 'docker', [...prefix, ...COMPOSE_FILES.flatMap((file) => ['-f', file]), ...args]];
}

/** The shell line the router container runs to point live at `color` (and preview at the other), without a reload. Pure. */
export function composeFlipScript(color: Color): string {
  const link = (name: string, target: Color) => `ln -sfn ${colorSocket(target)} ${name}.next && mv -fT ${name}.next ${name}`;
  return `cd ${COMPOSE_SOCKET_DIR} && ${link(LIVE_SOCKET, color)} && ${link(PREVIEW_SOCKET, otherColor(color))}`;
}

async function compose(target: ComposeTarget, args: readonly string[]): Promise<string> {
  const [command, fullArgs] = composeInvocation(target, args);
  const result = await target.run(command, fullArgs, { cwd: target.workspaceRoot, timeoutMs: COMMAND_TIMEOUT_MS });
  if (result.code !== 0) {
    const shown = [command, ...fullArgs].map((arg) => (arg === SOCKET_PROBE_SCRIPT ? '<probe script>' : arg)).join(' ');
    throw new DeployError('COMPOSE_FAILED', `\`${shown}\` ${result.code === null ? `could not run (${result.error})` : `exited ${result.code}`}: ${result.stderr.trim().slice(0, 400)}`);
  }
  return result.stdout;
}

async function readComposeRoute(target: ComposeTarget, link: string): Promise<Color> {
  const path = `${COMPOSE_SOCKET_DIR}/${link}`;
  const out = (await compose(target, ['exec', '-T', ROUTER_SERVICE, 'readlink', path])).trim();
  const color = Color.options.find((candidate) => out === colorSocket(candidate));
  if (!color) throw new DeployError('COMPOSE_FAILED', `${path} in the ${ROUTER_SERVICE} container points at "${out}", not at a color's socket.`);
  return color;
}

async function probeSocket(target: ComposeTarget, color: Color, method: 'GET' | 'POST', path: string, body?: string): Promise<HttpAnswer> {
  const socket = `${COMPOSE_SOCKET_DIR}/${colorSocket(color)}`;
  const out = await compose(target, ['exec', '-T', colorService(target.spec, color), 'node', '-e', SOCKET_PROBE_SCRIPT, socket, method, path, ...(body === undefined ? [] : [body])]);
  try {
    const parsed = JSON.parse(out.trim().split('\n').pop() ?? '') as { status: number; headers: Record<string, string>; body: string };
    return { status: parsed.status, headers: parsed.headers, body: parsed.body };
  } catch {
    throw new Error(`the probe in ${colorService(target.spec, color)} printed no answer: ${out.slice(0, 200)}`);
  }
}

/**
 * The switch on the Compose deployment: each color probed through its socket in the shared
 * volume from inside its container, nginx through its published port, and the live route moved
 * inside the nginx container (`ln -sfn` + `mv -T`, no reload). No version is recorded there, so
 * the preflight's expected version is the --expect-version given, else what the color answers.
 */
export function composeBackend(target: ComposeTarget): SwitchBackend {
  const router = { host: '127.0.0.1', port: target.spec.router.port };
  return {
    target: 'compose',
    routerUrl: httpUrl(router.host, router.port),
    liveColor: () => readComposeRoute(target, LIVE_SOCKET),
    recordedVersion: () => undefined,
    recordedFeatureCount: () => undefined,
    health: (color) => probeSocket(target, color, 'GET', '/health'),
    predict: (color, body) => probeSocket(target, color, 'POST', '/predict', body),
    routerHealth: () => target.http(router, { method: 'GET', path: '/health' }),
    async pointLiveAt(color) {
      await compose(target, ['exec', '-T', ROUTER_SERVICE, 'sh', '-c', composeFlipScript(color)]);
    },
  };
}

export interface ComposeStatus {
  readonly target: 'compose';
  readonly composeCommand: string;
  readonly healthy: boolean;
  readonly live: Color | null;
  readonly preview: Color | null;
  readonly router: { readonly url: string; readonly previewUrl: string; readonly serving: HealthView; readonly previewServing: HealthView };
  readonly colors: Readonly<Record<Color, { readonly service: string; readonly health: HealthView }>>;
  readonly lastSwitch: HistoryEntry | null;
  readonly lastAttempt: HistoryEntry | null;
  readonly notes: readonly string[];
}

/** `deploy:status --target=compose`. Changes nothing. */
export async function composeStatus(target: ComposeTarget, layout: StackLayout): Promise<ComposeStatus> {
  const notes: string[] = [];
  const route = async (link: string) => {
    try {
      return await readComposeRoute(target, link);
    } catch (error) {
      notes.push((error as Error).message);
      return null;
    }
  };
  const colorHealth = async (color: Color) => {
    try {
      return viewOf(await probeSocket(target, color, 'GET', '/health'));
    } catch (error) {
      return { ok: false, httpStatus: null, status: null, version: null, color: null, featureCount: null, error: (error as Error).message } satisfies HealthView;
    }
  };
  const router = { host: '127.0.0.1', port: target.spec.router.port };
  const live = await route(LIVE_SOCKET);
  const preview = await route(PREVIEW_SOCKET);
  const blue = await colorHealth('blue');
  const green = await colorHealth('green');
  const serving = await healthView(target, router, '/health');
  const previewServing = await healthView(target, router, `${target.spec.preview.pathPrefix}health`);
  const history = readHistory(layout.historyFile);
  const url = httpUrl(router.host, router.port);
  return {
    target: 'compose',
    composeCommand: target.composeCommand.join(' '),
    healthy: blue.ok && green.ok && serving.ok && live !== null && serving.color === live,
    live,
    preview,
    router: { url, previewUrl: `${url}${target.spec.preview.pathPrefix}`, serving, previewServing },
    colors: {
      blue: { service: colorService(target.spec, 'blue'), health: blue },
      green: { service: colorService(target.spec, 'green'), health: green },
    },
    lastSwitch: lastSuccessfulSwitch(history.entries, 'compose') ?? null,
    lastAttempt: lastAttempt(history.entries, 'compose') ?? null,
    notes,
  };
}
