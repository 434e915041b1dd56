import { Color, otherColor } from '@mlbg/contract';
import { ROUTER_SERVICE, replicaService } from '../../render/compose/compose';
import { COMPOSE_BASE_FILE, composeColorFile } from '../../render/compose/compose-names';
import {
  CANARY_LINK,
  COMPOSE_SOCKET_DIR,
  DEFAULT_LIVE_SLOTS,
  LIVE_LINK,
  PREVIEW_LINK,
  colorFolder,
  colorReplicaSocket,
  liveSlotLink,
  replicaNumbers,
} from '../../spec/sockets';
import type { DeploymentSpec } from '../../spec/deployment-spec';
import type { CommandRunner, HttpAnswer, HttpClient } from '../../effects/deps';
import { DeployError } from '../../errors';
import { httpUrl } from '../local/layout';
import { allTo, describeWeights, soleTarget } from '../../routing/routes';
import type { Backend, BackendRuntime } from '../backend';
import { composeDown, composeRelease, composeStatus, composeUp } from './compose-lifecycle';

/** The original design's three Compose files, in its order. */
export const COMPOSE_FILES: readonly string[] = [COMPOSE_BASE_FILE, composeColorFile('blue'), composeColorFile('green')];
/** Each engine command (a version check, a `compose exec`) is killed after this. */
export const COMPOSE_COMMAND_TIMEOUT_MS = 30_000;

/**
 * Runs inside a color's container (the image has node, not curl): one request to a unix socket,
 * printed as one JSON line `{status, headers, body}`. Arguments: socket, method, path, [body].
 */
export const SOCKET_PROBE_SCRIPT = [
  'const [socketPath, method, path, body] = process.argv.slice(1);',
  "const req = require('http').request({ socketPath, method, path, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {",
  "  let text = ''; res.setEncoding('utf8'); res.on('data', (chunk) => (text += chunk));",
  "  res.on('end', () => console.log(JSON.stringify({ status: res.statusCode, headers: res.headers, body: text })));",
  '});',
  "req.setTimeout(5000, () => req.destroy(new Error('no answer within 5000 ms')));",
  "req.on('error', (error) => { console.error(error.message); process.exitCode = 3; });",
  'req.end(body);',
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
  const v2 = await run('docker', ['compose', 'version'], { timeoutMs: COMPOSE_COMMAND_TIMEOUT_MS });
  if (v2.code === 0) return ['docker', 'compose'];
  const v1 = await run('docker-compose', ['version'], { timeoutMs: COMPOSE_COMMAND_TIMEOUT_MS });
  if (v1.code === 0) return ['docker-compose'];
  throw new DeployError(
    'DOCKER_NOT_FOUND',
    `\`docker compose version\`: ${v2.error ?? v2.stderr.trim()}; \`docker-compose version\`: ${v1.error ?? v1.stderr.trim()}.`,
  );
}

/** The command and arguments of `<compose> -f ... -f ... -f ... <args>`. Pure. */
export function composeInvocation(target: Pick<ComposeTarget, 'composeCommand'>, args: readonly string[]): [string, string[]] {
  const [command, ...prefix] = target.composeCommand;
  return [command ?? 'docker', [...prefix, ...COMPOSE_FILES.flatMap((file) => ['-f', file]), ...args]];
}

/**
 * The shell line the router container runs to point live at `color`'s folder (every live slot
 * link, then `canary` and `live`) and preview at the other's, without a reload. Pure.
 */
export function composeFlipScript(color: Color, slots: number = DEFAULT_LIVE_SLOTS): string {
  const link = (name: string, target: Color) => `ln -sfn ${colorFolder(target)} ${name}.next && mv -fT ${name}.next ${name}`;
  const slotLinks = Array.from({ length: slots }, (_, index) => link(liveSlotLink(index), color));
  return `cd ${COMPOSE_SOCKET_DIR} && ${[...slotLinks, link(CANARY_LINK, color), link(LIVE_LINK, color), link(PREVIEW_LINK, otherColor(color))].join(' && ')}`;
}

export async function compose(target: ComposeTarget, args: readonly string[], timeoutMs = COMPOSE_COMMAND_TIMEOUT_MS): Promise<string> {
  const [command, fullArgs] = composeInvocation(target, args);
  const result = await target.run(command, fullArgs, { cwd: target.workspaceRoot, timeoutMs });
  if (result.code !== 0) {
    const shown = [command, ...fullArgs].map((arg) => (arg === SOCKET_PROBE_SCRIPT ? '<probe script>' : arg)).join(' ');
    throw new DeployError(
      'COMPOSE_FAILED',
      `\`${shown}\` ${result.code === null ? `could not run (${result.error})` : `exited ${result.code}`}: ${result.stderr.trim().slice(0, 400)}`,
    );
  }
  return result.stdout;
}

export async function readComposeRoute(target: ComposeTarget, link: string): Promise<Color> {
  const path = `${COMPOSE_SOCKET_DIR}/${link}`;
  const out = (await compose(target, ['exec', '-T', ROUTER_SERVICE, 'readlink', path])).trim();
  const color = Color.options.find((candidate) => out === colorFolder(candidate));
  if (!color)
    throw new DeployError('COMPOSE_FAILED', `${path} in the ${ROUTER_SERVICE} container points at "${out}", not at a color's folder.`, {
      hint: 'A volume of an older release (links to blue.sock) gets new links when the nginx service starts again: `docker compose restart nginx`.',
    });
  return color;
}

/** One request to a replica's own socket, from inside its container (replica 1 by default). */
export async function probeSocket(
  target: ComposeTarget,
  color: Color,
  method: 'GET' | 'POST',
  path: string,
  body?: string,
  replica = 1,
): Promise<HttpAnswer> {
  const socket = `${COMPOSE_SOCKET_DIR}/${colorReplicaSocket(color, replica)}`;
  const container = replicaService(target.spec, color, replica);
  const out = await compose(target, [
    'exec',
    '-T',
    container,
    'node',
    '-e',
    SOCKET_PROBE_SCRIPT,
    socket,
    method,
    path,
    ...(body === undefined ? [] : [body]),
  ]);
  try {
    const parsed = JSON.parse(out.trim().split('\n').pop() ?? '') as { status: number; headers: Record<string, string>; body: string };
    return { status: parsed.status, headers: parsed.headers, body: parsed.body };
  } catch {
    throw new Error(`the probe in ${container} printed no answer: ${out.slice(0, 200)}`);
  }
}

/**
 * The Compose deployment as a {@link Backend}: each replica of a color probed through its socket in
 * the shared volume from inside its container, nginx through its published port, and the routes moved
 * inside the nginx container (`ln -sfn` + `mv -T`, no reload). No version is recorded there, so
 * the preflight's expected version is the --expect-version given, else what the color answers.
 */
export function composeBackend(target: ComposeTarget, runtime: BackendRuntime): Backend {
  const router = { host: '127.0.0.1', port: target.spec.router.port };
  return {
    kind: 'compose',
    routerUrl: httpUrl(router.host, router.port),
    up: (request) => composeUp(target, runtime, request),
    down: (request) => composeDown(target, request),
    release: (request) => composeRelease(target, runtime, request),
    status: () => composeStatus(target),
    async readRoutes() {
      const live = await readComposeRoute(target, LIVE_LINK);
      const preview = await readComposeRoute(target, PREVIEW_LINK);
      return { live: allTo(live), preview: allTo(preview) };
    },
    async setRoutes(routes) {
      const live = soleTarget(routes.live);
      if (!live || soleTarget(routes.preview) !== otherColor(live)) {
        throw new DeployError(
          'CANARY_NOT_SUPPORTED',
          `The Compose router moves live and preview together, one color each (a weighted canary is local-only for now); asked for live ${describeWeights(routes.live)}, preview ${describeWeights(routes.preview)}.`,
        );
      }
      await compose(target, ['exec', '-T', ROUTER_SERVICE, 'sh', '-c', composeFlipScript(live, target.spec.canary.slots)]);
    },
    routerHealth: (route = 'live') =>
      target.http(router, { method: 'GET', path: route === 'live' ? '/health' : `${target.spec.preview.pathPrefix}health` }),
    colors: {
      health: (color) => probeSocket(target, color, 'GET', '/health'),
      predict: (color, body) => probeSocket(target, color, 'POST', '/predict', body),
      recorded: () => undefined,
      replicas: (color) =>
        replicaNumbers(target.spec.replicas.perColor).map((replica) => ({
          name: replicaService(target.spec, color, replica),
          health: () => probeSocket(target, color, 'GET', '/health', undefined, replica),
          predict: (body: string) => probeSocket(target, color, 'POST', '/predict', body, replica),
        })),
    },
  };
}
