import { join } from 'node:path';
import { Color } from '@mlbg/contract';
import { ROUTER_SERVICE, replicaService, serviceContainer } from '../../render/compose/compose';
import { COMPOSE_BASE_FILE, COMPOSE_NGINX_LOG_DIR, composeColorFile } from '../../render/compose/compose-names';
import {
  COMPOSE_SOCKET_DIR,
  DEFAULT_LIVE_SLOTS,
  PREVIEW_LINK,
  colorFolder,
  colorReplicaSocket,
  liveSlotLink,
  replicaNumbers,
} from '../../spec/sockets';
import type { DeploymentSpec } from '../../spec/deployment-spec';
import type { CommandRunner, HttpAnswer, HttpCall, HttpClient } from '../../effects/deps';
import { readLogFrom } from '../../effects/log-files';
import { DeployError } from '../../errors';
import { httpUrl } from '../local/layout';
import { localMeter, localServedBetween } from '../local/canary-meter';
import { replicasMetrics } from '../replica-metrics';
import { type Routes, allTo, describeWeights, routesWithLive, soleTarget } from '../../routing/routes';
import { routeLinks, weightsOfSlots } from '../../routing/slots';
import type { Backend, BackendRuntime, PastWindow } from '../backend';
import { composeDown, composeRelease, composeStatus, composeUp } from './compose-lifecycle';
import { composeShadow } from './compose-shadow';

/** The original design's three Compose files, in its order. */
export const COMPOSE_FILES: readonly string[] = [COMPOSE_BASE_FILE, composeColorFile('blue'), composeColorFile('green')];
/** Each engine command (a version check, a `compose exec`) is killed after this. */
export const COMPOSE_COMMAND_TIMEOUT_MS = 30_000;

/**
 * Runs inside a color's container (the image has node, not curl): one request to a unix socket,
 * printed as one JSON line `{status, headers, body}`. Arguments: socket, method, path, [body
 * ('' = none), [headers as JSON]].
 */
export const SOCKET_PROBE_SCRIPT = [
  'const [socketPath, method, path, body, headers] = process.argv.slice(1);',
  'const extra = headers ? JSON.parse(headers) : {};',
  "const req = require('http').request({ socketPath, method, path, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...extra } }, (res) => {",
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
  /**
   * `['docker', 'exec']` when the docker CLI is there: a command in a service's container runs by
   * the container's name. Without it, through `<compose> exec -T <service>`.
   */
  readonly execCommand?: readonly string[];
}

/** The engine's commands a {@link ComposeTarget} uses. */
export interface EngineCommands {
  readonly composeCommand: string[];
  readonly execCommand?: string[];
}

/**
 * `docker compose` (v2) if it works, else `docker-compose` (v1, as the original design used);
 * `override` (BLUEGREEN_COMPOSE_COMMAND) wins, and then every command goes through it. `docker exec`
 * whenever the docker CLI answered (even without its compose plugin).
 * @throws DeployError DOCKER_NOT_FOUND
 */
export async function detectEngineCommands(run: CommandRunner, override?: string): Promise<EngineCommands> {
  if (override && override.trim() !== '') return { composeCommand: override.trim().split(/\s+/) };
  const v2 = await run('docker', ['compose', 'version'], { timeoutMs: COMPOSE_COMMAND_TIMEOUT_MS });
  // `code: null`: docker could not be started at all (not installed).
  const execCommand = v2.code === null ? {} : { execCommand: ['docker', 'exec'] };
  if (v2.code === 0) return { composeCommand: ['docker', 'compose'], ...execCommand };
  const v1 = await run('docker-compose', ['version'], { timeoutMs: COMPOSE_COMMAND_TIMEOUT_MS });
  if (v1.code === 0) return { composeCommand: ['docker-compose'], ...execCommand };
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
 * The shell line the router container runs to move the routes: every route link (the live slots,
 * `canary`, `live`, `preview`; see {@link routeLinks}) renamed to its color's folder, without a
 * reload. Each rename is atomic, and renaming a link over one with the same target changes nothing
 * nginx sees, so the script needs no read of the links first. Pure.
 * @throws Error when the live weights are not a multiple of one slot's share
 */
export function composeLinksScript(routes: Routes, slots: number = DEFAULT_LIVE_SLOTS): string {
  const link = (name: string, target: Color) => `ln -sfn ${colorFolder(target)} ${name}.next && mv -fT ${name}.next ${name}`;
  return `cd ${COMPOSE_SOCKET_DIR} && ${routeLinks(routes, slots)
    .map(([name, color]) => link(name, color))
    .join(' && ')}`;
}

/** The script that points live (every slot) at `color` and preview at the other color: a switch. Pure. */
export function composeFlipScript(color: Color, slots: number = DEFAULT_LIVE_SLOTS): string {
  return composeLinksScript(routesWithLive(color), slots);
}

/** The shell line that prints each of the live slot links and `preview` with its target, one `link target` a line. Pure. */
export function composeReadLinksScript(slots: number = DEFAULT_LIVE_SLOTS): string {
  const links = [...Array.from({ length: slots }, (_, index) => liveSlotLink(index)), PREVIEW_LINK];
  return `cd ${COMPOSE_SOCKET_DIR} && for link in ${links.join(' ')}; do printf '%s %s\\n' "$link" "$(readlink "$link")"; done`;
}

/**
 * The routes the links say (the output of {@link composeReadLinksScript}). Pure.
 * @throws DeployError COMPOSE_FAILED when a link is missing or points elsewhere than a color's folder
 */
export function routesOfLinks(output: string, slots: number = DEFAULT_LIVE_SLOTS): Routes {
  const targets = new Map(
    output
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/) as [string, string | undefined]),
  );
  const colorOf = (link: string): Color => {
    const target = targets.get(link) ?? '';
    const color = Color.options.find((candidate) => target === colorFolder(candidate));
    if (!color)
      throw new DeployError(
        'COMPOSE_FAILED',
        `${COMPOSE_SOCKET_DIR}/${link} in the ${ROUTER_SERVICE} container points at "${target}", not at a color's folder.`,
        {
          hint: 'A volume of an older release (links to blue.sock) gets new links when the nginx service starts again: `docker compose restart nginx`.',
        },
      );
    return color;
  };
  const live = weightsOfSlots(Array.from({ length: slots }, (_, index) => colorOf(liveSlotLink(index))));
  return { live, preview: allTo(colorOf(PREVIEW_LINK)) };
}

/** The routes as the links in the socket volume are now: one `exec` in the nginx container. */
export async function readComposeRoutes(target: ComposeTarget): Promise<Routes> {
  const slots = target.spec.canary.slots;
  return routesOfLinks(await execIn(target, ROUTER_SERVICE, ['sh', '-c', composeReadLinksScript(slots)]), slots);
}

/** `<compose> -f ... <args>`: its stdout. @throws DeployError COMPOSE_FAILED */
export async function compose(target: ComposeTarget, args: readonly string[], timeoutMs = COMPOSE_COMMAND_TIMEOUT_MS): Promise<string> {
  const [command, fullArgs] = composeInvocation(target, args);
  return engineCommand(target, command, fullArgs, timeoutMs);
}

/**
 * Runs `argv` in a service's container: `docker exec <its container_name>` (every service of the
 * generated files has one), else `<compose> exec -T <service>`. Not `compose exec` always: that
 * parses the three files and asks the engine for the project first, about 1 s of CPU a call with
 * docker-compose v1 against 0.1 s, and a canary's interval makes a dozen of them.
 * @throws DeployError COMPOSE_FAILED
 */
export async function execIn(
  target: ComposeTarget,
  service: string,
  argv: readonly string[],
  timeoutMs = COMPOSE_COMMAND_TIMEOUT_MS,
): Promise<string> {
  if (!target.execCommand) return compose(target, ['exec', '-T', service, ...argv], timeoutMs);
  const [command, ...prefix] = target.execCommand;
  return engineCommand(target, command ?? 'docker', [...prefix, serviceContainer(target.spec, service), ...argv], timeoutMs);
}

async function engineCommand(target: ComposeTarget, command: string, fullArgs: readonly string[], timeoutMs: number): Promise<string> {
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
  const out = (await execIn(target, ROUTER_SERVICE, ['readlink', path])).trim();
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
  return requestSocket(target, color, { method, path, ...(body === undefined ? {} : { body }) }, replica);
}

/**
 * Any request to a replica's own socket, from inside its container: how the deploy tool reaches a
 * color's internal routes (/metrics, /admin/predictions), which no public port serves.
 */
export async function requestSocket(target: ComposeTarget, color: Color, call: HttpCall, replica = 1): Promise<HttpAnswer> {
  const socket = `${COMPOSE_SOCKET_DIR}/${colorReplicaSocket(color, replica)}`;
  const container = replicaService(target.spec, color, replica);
  const headers = call.headers && Object.keys(call.headers).length > 0 ? [JSON.stringify(call.headers)] : [];
  const body = call.body !== undefined || headers.length > 0 ? [call.body ?? ''] : [];
  const out = await execIn(
    target,
    container,
    ['node', '-e', SOCKET_PROBE_SCRIPT, socket, call.method, call.path, ...body, ...headers],
    call.timeoutMs ?? COMPOSE_COMMAND_TIMEOUT_MS,
  );
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
  const slots = target.spec.canary.slots;
  const replicas = (color: Color) =>
    replicaNumbers(target.spec.replicas.perColor).map((replica) => ({
      name: replicaService(target.spec, color, replica),
      health: () => probeSocket(target, color, 'GET', '/health', undefined, replica),
      predict: (body: string) => probeSocket(target, color, 'POST', '/predict', body, replica),
      request: (call: HttpCall) => requestSocket(target, color, call, replica),
    }));
  // nginx's JSON access log, on the host through the bind mount (rotated by the nginx container's loop).
  const shadow = composeShadow(target, runtime);
  const readAccessLog = async (from: number | 'end') => readLogFrom(join(target.workspaceRoot, COMPOSE_NGINX_LOG_DIR, 'access.log'), from);
  return {
    kind: 'compose',
    routerUrl: httpUrl(router.host, router.port),
    up: (request) => composeUp(target, runtime, request),
    down: (request) => composeDown(target, request),
    release: (request) => composeRelease(target, runtime, request),
    status: () => composeStatus(target, shadow.status),
    readRoutes: () => readComposeRoutes(target),
    async setRoutes(routes) {
      const problem = soleTarget(routes.preview) ? undefined : `the preview route can not be split (${describeWeights(routes.preview)})`;
      if (problem) throw new DeployError('USAGE', `The Compose router sends preview to one color; ${problem}.`);
      await execIn(target, ROUTER_SERVICE, ['sh', '-c', composeLinksScript(routes, slots)]);
    },
    routerHealth: (route = 'live') =>
      target.http(router, { method: 'GET', path: route === 'live' ? '/health' : `${target.spec.preview.pathPrefix}health` }),
    colors: {
      health: (color) => probeSocket(target, color, 'GET', '/health'),
      predict: (color, body) => probeSocket(target, color, 'POST', '/predict', body),
      recorded: () => undefined,
      // `instance`: one replica's container (as `instances` names them), e.g. to read its own prediction records.
      request: async (color, call, instance) => {
        const replica = instance === undefined ? replicas(color)[0] : replicas(color).find((item) => item.name === instance);
        if (!replica) throw new DeployError('DIFF_UNAVAILABLE', `${color} has no replica named ${instance}.`);
        return replica.request(call);
      },
      // Each replica keeps its own prediction records: a color's are all of theirs together.
      instances: async (color) => replicas(color).map((item) => item.name),
      replicas,
    },
    shadow,
    canary: {
      slots,
      previewPathPrefix: target.spec.preview.pathPrefix,
      request: (call) => target.http(router, call),
      meter: (colors) =>
        localMeter({ slots, clock: runtime.clock, readAccessLog, metrics: (color) => replicasMetrics(replicas(color)) }, colors),
      servedBetween: (window: PastWindow, routes: Routes) => localServedBetween({ slots, readAccessLog }, window, routes),
    },
  };
}
