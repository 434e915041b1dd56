import { Color, otherColor } from '@mlbg/contract';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { type HealthView, checkHealth, healthView, judgeHealth, noAnswer } from '../../effects/service-client';
import { DeployError } from '../../errors';
import { COLOR_IMAGE_VARIABLES, IMAGE_APP_DIR, LOCAL_IMAGE_REPOSITORY, colorService, replicaService } from '../../render/compose/compose';
import { COLOR_MODEL_VARIABLES, COMPOSE_NGINX_LOG_DIR } from '../../render/compose/compose-names';
import { allTo, describeWeights, mainTarget, soleTarget } from '../../routing/routes';
import { LIVE_LINK, replicaNumbers } from '../../spec/sockets';
import type {
  BackendRuntime,
  BackendStatus,
  ReplicaStatus,
  ShadowStatus,
  DownRequest,
  DownResult,
  ReleaseRequest,
  ReleaseResult,
  StartedColor,
  UpRequest,
  UpResult,
} from '../backend';
import { httpUrl } from '../local/layout';
import { type ComposeTarget, compose, probeSocket, readComposeRoute, readComposeRoutes } from './compose-backend';
import { releaseValuesProblem } from '../../spec/release-values';

/** Images are built or pulled, containers start, healthchecks pass: slower than local processes. */
/** A compose command that starts or recreates containers, and a replica's wait to be healthy, each give up after this. */
export const DEFAULT_COMPOSE_TIMEOUT_MS = 180_000;
export const POLL_MS = 1_000;
const PROGRESS_EVERY_MS = 5_000;
/** `docker inspect` of one container (its restart count and health) gives up after this. */
export const INSPECT_TIMEOUT_MS = 15_000;
/** Compose reads it from the project folder: per-color images and models survive a later `up -d`. */
const ENV_FILE = '.env';

/** `deploy:up --backend=compose`: the original design's `up --build -d`, then waits until both colors and nginx answer. */
export async function composeUp(target: ComposeTarget, runtime: BackendRuntime, request: UpRequest): Promise<UpResult> {
  if (Object.keys(request.ports).length > 0 || Object.keys(request.models).length > 0) {
    throw new DeployError(
      'USAGE',
      'Ports and models of the Compose deployment come from deploy/deployment.json (and BLUE_MODEL/GREEN_MODEL, BLUE_IMAGE/GREEN_IMAGE in .env); leave out --*-port and --*-model.',
    );
  }
  const begin = runtime.clock.now();
  runtime.progress(`Starting the Compose deployment (${target.composeCommand.join(' ')} up --build -d)...`);
  // nginx's bind-mounted log folder: podman refuses a missing source (docker would make it, owned by root).
  mkdirSync(join(target.workspaceRoot, COMPOSE_NGINX_LOG_DIR), { recursive: true });
  await compose(target, ['up', '--build', '-d'], request.timeoutMs ?? DEFAULT_COMPOSE_TIMEOUT_MS);
  const colors = {} as Record<Color, StartedColor>;
  const replicas = replicaNumbers(target.spec.replicas.perColor);
  for (const color of Color.options) {
    let health: Awaited<ReturnType<typeof waitForReplica>> | undefined;
    for (const replica of replicas) {
      const answered = await waitForReplica(target, runtime, color, replica, request.timeoutMs ?? DEFAULT_COMPOSE_TIMEOUT_MS);
      health ??= answered;
    }
    const first = health as NonNullable<typeof health>;
    const port = target.spec.colors[color].port;
    colors[color] = {
      color,
      pid: null,
      replicas: replicas.map((replica) => ({ name: replicaService(target.spec, color, replica), pid: null })),
      port,
      url: httpUrl('127.0.0.1', port),
      model: target.spec.colors[color].model,
      modelSource: 'spec',
      version: first.version,
      featureCount: first.feature_count,
      modelSha256: first.model_sha256,
    };
  }
  const live = await readComposeRoute(target, LIVE_LINK);
  const routerUrl = httpUrl('127.0.0.1', target.spec.router.port);
  return {
    kind: 'started',
    backend: 'compose',
    routes: { live: allTo(live), preview: allTo(otherColor(live)) },
    live,
    preview: otherColor(live),
    routerUrl,
    previewUrl: `${routerUrl}${target.spec.preview.pathPrefix}`,
    nginxPid: null,
    colors,
    notes: [],
    durationMs: runtime.clock.now() - begin,
    stateDir: target.workspaceRoot,
    logDir: `${target.composeCommand.join(' ')} logs`,
  };
}

/** `deploy:down --backend=compose`: `down` (with `-v` under --reset: the sockets volume, so routes start over). */
export async function composeDown(target: ComposeTarget, request: DownRequest): Promise<DownResult> {
  await compose(target, ['down', ...(request.reset ? ['-v'] : [])], request.timeoutMs ?? DEFAULT_COMPOSE_TIMEOUT_MS);
  return {
    kind: 'stopped',
    processes: [],
    removedRuntimeDir: false,
    notes: request.reset ? ['Removed the sockets volume (--reset): blue is live on the next up.'] : [],
  };
}

/**
 * `deploy:release --backend=compose`: recreates only the idle color's container on a new model
 * (BLUE_MODEL/GREEN_MODEL) and/or image (BLUE_IMAGE/GREEN_IMAGE), kept in `.env`; waits until it
 * answers as healthy on its socket and on the preview route. If it does not, `.env` and the
 * container are put back as they were.
 */
export async function composeRelease(target: ComposeTarget, runtime: BackendRuntime, request: ReleaseRequest): Promise<ReleaseResult> {
  if (!request.model && !request.image)
    throw new DeployError(
      'USAGE',
      'A Compose release needs --model=<path of an .onnx file in the image> and/or --image=<image reference>.',
    );
  // Each becomes one `NAME=value` line of .env: refused before anything changes if it could be more.
  const problem = releaseValuesProblem(request);
  if (problem) throw new DeployError('USAGE', problem);
  const begin = runtime.clock.now();
  const routes = await readComposeRoutes(target);
  if (!soleTarget(routes.live))
    throw new DeployError(
      'CANARY_IN_PROGRESS',
      `The live route is ${describeWeights(routes.live)}; releasing to either color would change a color that takes live traffic.`,
    );
  const live = mainTarget(routes.live);
  const idle = otherColor(live);
  if (request.color === live) throw new DeployError('LIVE_COLOR_RELEASE', `${live} is live; the idle color is ${idle}.`);
  const color = request.color ?? idle;
  const services = replicaNumbers(target.spec.replicas.perColor).map((replica) => ({
    replica,
    service: replicaService(target.spec, color, replica),
  }));
  const liveHealth = judgeHealth(await probeSocket(target, live, 'GET', '/health').catch(() => ({ status: 0, headers: {}, body: '' })));

  const envFile = join(target.workspaceRoot, ENV_FILE);
  const previousEnv = readEnvFile(envFile);
  // What the color runs now: its .env values, else the Compose files' defaults.
  const previous = {
    model: previousEnv[COLOR_MODEL_VARIABLES[color]] ?? `${IMAGE_APP_DIR}/${target.spec.colors[color].model}`,
    image: previousEnv[COLOR_IMAGE_VARIABLES[color]] ?? `${LOCAL_IMAGE_REPOSITORY}:${color}`,
  };
  // A new image is new code for the model that is live: without --model, the idle color gets the
  // live color's model, so a CD deploy never changes the model version clients see.
  const liveModel = previousEnv[COLOR_MODEL_VARIABLES[live]] ?? `${IMAGE_APP_DIR}/${target.spec.colors[live].model}`;
  const model = request.model ? modelInImage(request.model) : request.image ? liveModel : undefined;
  const updates: Record<string, string> = {
    ...(model ? { [COLOR_MODEL_VARIABLES[color]]: model } : {}),
    ...(request.image ? { [COLOR_IMAGE_VARIABLES[color]]: request.image } : {}),
  };
  const timeoutMs = request.timeoutMs ?? DEFAULT_COMPOSE_TIMEOUT_MS;
  runtime.progress(
    `Releasing ${Object.entries(updates)
      .map(([name, value]) => `${name}=${value}`)
      .join(' ')} to ${color} (idle; ${live} stays live): recreating ${services.map((item) => item.service).join(', ')} one by one...`,
  );
  writeEnvFile(envFile, { ...previousEnv, ...updates });
  // One replica at a time, each healthy before the next is stopped (docker stop: it drains first).
  const recreate = (service: string) => compose(target, ['up', '-d', '--no-deps', '--no-build', '--force-recreate', service], timeoutMs);
  const moved: string[] = [];
  let health: Awaited<ReturnType<typeof waitForReplica>> | undefined;
  for (const { replica, service } of services) {
    try {
      moved.push(service);
      await recreate(service);
      const answered = await waitForReplica(target, runtime, color, replica, timeoutMs);
      health ??= answered;
    } catch (error) {
      runtime.progress(`${service} did not become healthy; putting ${ENV_FILE} and ${moved.join(', ')} back as they were...`);
      writeEnvFile(envFile, previousEnv);
      // The replica that failed is removed first (removeFailedContainer); those already moved are healthy and drain on stop.
      const removed = await removeFailedContainer(target, service);
      const restored: string[] = [];
      for (const each of moved) {
        restored.push(
          await recreate(each).then(
            () => `${each} was recreated as it was before.`,
            (again: Error) => `Recreating ${each} as it was failed too: ${again.message}${each === service ? removed : ''}`,
          ),
        );
      }
      throw new DeployError('RELEASE_FAILED', `${(error as Error).message}\n${restored.join('\n')}`);
    }
  }
  if (!health) throw new DeployError('RELEASE_FAILED', `${color} has no replica to release to (replicas.perColor).`);
  const previewUrl = `${httpUrl('127.0.0.1', target.spec.router.port)}${target.spec.preview.pathPrefix}`;
  const preview = healthView(
    await checkHealth(target.http, { host: '127.0.0.1', port: target.spec.router.port }, `${target.spec.preview.pathPrefix}health`),
  );
  if (!preview.ok || preview.color !== color || preview.version !== health.version) {
    throw new DeployError(
      'PREVIEW_UNREACHABLE',
      `${previewUrl}health answered ${preview.error ?? `${preview.httpStatus} from ${preview.color} ${preview.version}`}, expected ${color} ${health.version}.`,
    );
  }
  const notes: string[] = [];
  if (liveHealth.health && liveHealth.health.feature_count !== health.feature_count) {
    notes.push(
      `Its input signature differs from live ${live}'s: ${health.feature_count} feature(s) per row instead of ${liveHealth.health.feature_count}, so deploy:switch will refuse to send live traffic to it.`,
    );
  }
  return {
    color,
    model: model ?? previous.model,
    ...(request.image ? { image: request.image } : {}),
    previousModel: previous.model,
    previous,
    pid: null,
    replicas: services.map((item) => ({ name: item.service, pid: null })),
    version: health.version,
    featureCount: health.feature_count,
    modelSha256: health.model_sha256,
    previewUrl,
    live: { color: live, version: liveHealth.health?.version ?? null, featureCount: liveHealth.health?.feature_count ?? null },
    notes,
    durationMs: runtime.clock.now() - begin,
  };
}

/**
 * `deploy:status --backend=compose`. Changes nothing. Everything it reads is read at once: each
 * read is a `docker exec` or an inspect, seconds on a loaded machine (the dashboard reads it every
 * refresh).
 */
export async function composeStatus(target: ComposeTarget, shadow?: () => Promise<ShadowStatus>): Promise<BackendStatus> {
  const notes: string[] = [];
  const router = { host: '127.0.0.1', port: target.spec.router.port };
  const replicaHealth = (color: Color, replica: number) =>
    probeSocket(target, color, 'GET', '/health', undefined, replica).then(judgeHealth, noAnswer).then(healthView);
  const replicaStatus = async (color: Color, replica: number): Promise<ReplicaStatus> => {
    const name = replicaService(target.spec, color, replica);
    const [health, state] = await Promise.all([replicaHealth(color, replica), containerState(target, name)]);
    return {
      replica,
      name,
      process: state.status === 'running' ? 'running' : state.status === undefined ? 'unknown' : 'dead',
      pid: null,
      phase: state.health ?? state.status ?? null,
      restarts: state.restarts ?? null,
      health,
    };
  };
  const colorReplicas = (color: Color) =>
    Promise.all(replicaNumbers(target.spec.replicas.perColor).map((replica) => replicaStatus(color, replica)));
  const [routesRead, blueReplicas, greenReplicas, servingCheck, previewCheck, shadowRead] = await Promise.all([
    // The links as they are: a canary in progress shows as split live weights.
    readComposeRoutes(target).catch((error: Error) => error),
    colorReplicas('blue'),
    colorReplicas('green'),
    checkHealth(target.http, router, '/health'),
    checkHealth(target.http, router, `${target.spec.preview.pathPrefix}health`),
    // The relay's view (the mirror link, its counters); what can not be read is a note, never a failed status.
    shadow?.().catch((error: Error) => error),
  ]);
  const routes = routesRead instanceof Error ? null : routesRead;
  if (routesRead instanceof Error) notes.push(routesRead.message);
  const shadowStatus = shadowRead instanceof Error ? undefined : shadowRead;
  if (shadowRead instanceof Error) notes.push(`Shadow traffic: ${shadowRead.message}`);
  const live = routes ? mainTarget(routes.live) : null;
  const preview = routes ? (soleTarget(routes.preview) ?? null) : null;
  const replicas = { blue: blueReplicas, green: greenReplicas };
  const [blue, green] = [replicas.blue[0]?.health, replicas.green[0]?.health].map(
    (health) => health ?? healthView({ kind: 'no-answer', problem: 'no replica', code: undefined }),
  ) as [HealthView, HealthView];
  const serving = healthView(servingCheck);
  const previewServing = healthView(previewCheck);
  const url = httpUrl(router.host, router.port);
  const colorStatus = (color: Color, health: HealthView) => ({
    color,
    role: color === live ? ('live' as const) : color === preview ? ('preview' as const) : null,
    process: health.httpStatus === null ? ('unknown' as const) : ('running' as const),
    pid: null,
    container: colorService(target.spec, color),
    port: target.spec.colors[color].port,
    url: httpUrl('127.0.0.1', target.spec.colors[color].port),
    model: null,
    replicas: { ready: replicas[color].filter((item) => item.health.ok).length, desired: replicas[color].length },
    replicaList: replicas[color],
    health,
  });
  const all = [...replicas.blue, ...replicas.green];
  return {
    backend: 'compose',
    where: target.composeCommand.join(' '),
    stack: live && all.every((item) => item.health.httpStatus !== null) ? 'running' : 'partly running',
    healthy:
      all.every((item) => item.health.ok) &&
      serving.ok &&
      live !== null &&
      // During a canary nginx answers from either color.
      ((routes !== null && !soleTarget(routes.live)) || serving.color === live),
    routes,
    live,
    preview,
    router: {
      url,
      previewUrl: `${url}${target.spec.preview.pathPrefix}`,
      port: router.port,
      requestedPort: router.port,
      process: live ? 'running' : 'unknown',
      pid: null,
      container: target.spec.router.container,
      serving,
      previewServing,
    },
    colors: { blue: colorStatus('blue', blue), green: colorStatus('green', green) },
    ...(shadowStatus ? { shadow: shadowStatus } : {}),
    notes,
  };
}

/**
 * Polls until the color answers 200 "ok" on its socket AND its container's own healthcheck says
 * healthy (where it has one): Docker's view and ours must agree before it gets traffic. A
 * container whose restart count grows while it starts (its process exits, e.g. a model that does
 * not load) fails at once: the restart policy would otherwise keep it "starting" until the timeout.
 */
async function waitForReplica(target: ComposeTarget, runtime: BackendRuntime, color: Color, replica: number, timeoutMs: number) {
  const container = replicaService(target.spec, color, replica);
  const started = runtime.clock.now();
  let nextReport = started + PROGRESS_EVERY_MS;
  let last = 'no answer yet';
  const atStart = await containerState(target, container);
  for (;;) {
    const check = await probeSocket(target, color, 'GET', '/health', undefined, replica).then(judgeHealth, noAnswer);
    const state = await containerState(target, container);
    if (check.kind === 'ok' && (state.health === undefined || state.health === 'healthy')) return check.health;
    last = check.kind === 'ok' ? `its socket answers, but the container's healthcheck says "${state.health}"` : check.problem;
    if (state.restarts !== undefined && atStart.restarts !== undefined && state.restarts > atStart.restarts) {
      const logs = await target.run('docker', ['logs', '--tail', '15', container], { timeoutMs: 15_000 });
      const tail = `${logs.stdout}${logs.stderr}`
        .trim()
        .split('\n')
        .slice(-15)
        .map((line) => `  | ${line}`)
        .join('\n');
      throw new Error(
        `${container} keeps restarting (its process exited ${state.restarts - atStart.restarts} time(s) while starting; last: ${last}). Its last log lines:\n${tail}`,
      );
    }
    const now = runtime.clock.now();
    if (now - started >= timeoutMs)
      throw new Error(`${container} was not healthy after ${Math.round(timeoutMs / 1000)} s (last: ${last}).`);
    if (now >= nextReport) {
      runtime.progress(`  ${Math.round((now - started) / 1000)} s  ${container}: ${last}`);
      nextReport = now + PROGRESS_EVERY_MS;
    }
    await runtime.clock.sleep(POLL_MS);
  }
}

/**
 * Removes the container a failed release left, before the restore recreates it. `up
 * --force-recreate` alone first stops it, and a crash-looping container (restart: unless-stopped)
 * can be restarted by the engine after that stop (seen with podman 4.3, about 1 restore in 15, when
 * the stop comes between two of its runs). Compose renames it and goes on; it keeps the color's
 * port, and the restored container stays "created" (bind: address already in use). `docker rm -f`
 * kills and removes it in one step. Returns a note for the error message when it failed.
 */
async function removeFailedContainer(target: ComposeTarget, container: string): Promise<string> {
  const result = await target.run('docker', ['rm', '-f', container], { timeoutMs: 30_000 });
  return result.code === 0 ? '' : ` (removing the failed ${container} first did not work either: ${result.error ?? result.stderr.trim()})`;
}

/**
 * The container's restart count, state (`running`, `exited`, ...) and healthcheck status, as far as
 * docker can say (undefined: unknown, or no healthcheck).
 */
async function containerState(target: ComposeTarget, container: string): Promise<{ restarts?: number; status?: string; health?: string }> {
  const result = await target.run(
    'docker',
    ['inspect', '--format', '{{.RestartCount}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}', container],
    { timeoutMs: INSPECT_TIMEOUT_MS },
  );
  if (result.code !== 0) return {};
  const [restarts, status, health] = result.stdout.trim().split(/\s+/);
  const count = Number(restarts);
  return { ...(Number.isInteger(count) ? { restarts: count } : {}), ...(status ? { status } : {}), ...(health ? { health } : {}) };
}

/** A model path as the container sees it: repo-relative paths live under the image's /app. */
function modelInImage(model: string): string {
  return isAbsolute(model) ? model : `${IMAGE_APP_DIR}/${model.replace(/^\.\//, '')}`;
}

/** `.env` as name -> value (comments and blank lines are not kept: the file is ours). */
export function readEnvFile(file: string): Record<string, string> {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match?.[1] !== undefined) values[match[1]] = match[2] ?? '';
  }
  return values;
}

function writeEnvFile(file: string, values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values))
    if (/[\r\n\0]/.test(value))
      throw new DeployError('USAGE', `${name} would be more than one line of ${ENV_FILE}: ${JSON.stringify(value)}.`);
  const next = `${file}.${process.pid}.tmp`;
  writeFileSync(
    next,
    Object.entries(values)
      .map(([name, value]) => `${name}=${value}\n`)
      .join(''),
  );
  renameSync(next, file);
}
