import type { Color } from '@mlbg/contract';
import type { RuntimeDeps } from '../../../effects/deps';
import { type HealthView, checkHealth, healthView } from '../../../effects/service-client';
import { DeployError } from '../../../errors';
import { allTo, describeWeights, mainTarget, soleTarget } from '../../../routing/routes';
import type { BackendStatus, ColorStatus, ReplicaStatus } from '../../backend';
import { type StackLayout, httpUrl, replicaName } from '../layout';
import { replicaNumbers } from '../../../spec/sockets';
import { type ProcessCheck, checkProcess } from './processes';
import { readRouteLinks } from '../nginx/route-links';
import { SERVICE_HOST } from '../services/color-service';
import { readState } from './state';
import { supervisorView } from '../supervisor/supervisor-control';
import { shadowStatus } from '../shadow/shadow';

/**
 * `deploy:status` of the local stack: the state, the pid files, the socket links, each color's
 * /health and what nginx serves. Changes nothing and takes no lock.
 * @throws DeployError STATE_CORRUPT
 */
export async function localStatus(deps: RuntimeDeps, layout: StackLayout): Promise<BackendStatus> {
  const read = readState(layout.stateFile);
  if (read.kind === 'corrupt') throw new DeployError('STATE_CORRUPT', `${read.file}: ${read.problem}.`);
  const base = { backend: 'local' as const, where: layout.stateDir };
  if (read.kind === 'missing' || !read.state.running) {
    const routes = read.kind === 'ok' ? read.state.routes : null;
    return {
      ...base,
      stack: read.kind === 'missing' ? 'never started' : 'stopped',
      healthy: false,
      routes,
      live: null,
      preview: null,
      router: null,
      colors: null,
      notes: [read.kind === 'missing' ? `No state file at ${read.file}.` : 'Stopped; the routes below are used again on the next `up`.'],
    };
  }
  const { state } = read;
  const running = state.running as NonNullable<typeof state.running>;
  const notes: string[] = [];
  const nginx = checkProcess(deps.processes, layout, 'nginx');
  const view = supervisorView(deps, layout);
  const links = readRouteLinks(layout, running.liveSlots);
  const live = links.live ? mainTarget(links.live) : null;
  const split = links.live !== undefined && soleTarget(links.live) === undefined;
  const preview = links.preview ?? null;
  if (!links.live) notes.push(`A live slot link (${layout.liveSlot(0)} ...) is missing or does not point at a color's socket.`);
  else if (describeWeights(state.routes.live) !== describeWeights(links.live))
    notes.push(
      `The state file's live route (${describeWeights(state.routes.live)}) differs from the slot links (${describeWeights(links.live)}); the links are what nginx follows.`,
    );

  const router = { host: running.router.host, port: running.router.port };
  const replicaStatus = async (color: Color, replica: number): Promise<ReplicaStatus> => {
    const name = replicaName(color, replica);
    const check = checkProcess(deps.processes, layout, name);
    const report = view.processes[name];
    return {
      replica,
      name,
      process: check.kind,
      pid: pidOf(check),
      phase: report?.phase ?? null,
      restarts: report?.restarts ?? null,
      health: healthView(await checkHealth(deps.http, { socketPath: layout.replicaSocket(color, replica) })),
    };
  };
  const colorReplicas = (color: Color) => Promise.all(replicaNumbers(running.replicas).map((replica) => replicaStatus(color, replica)));
  const [serving, previewServing, blue, green, blueReplicas, greenReplicas] = await Promise.all([
    checkHealth(deps.http, router, '/health').then(healthView),
    checkHealth(deps.http, router, `${running.previewPathPrefix}health`).then(healthView),
    checkHealth(deps.http, { host: SERVICE_HOST, port: running.colors.blue.port }).then(healthView),
    checkHealth(deps.http, { host: SERVICE_HOST, port: running.colors.green.port }).then(healthView),
    colorReplicas('blue'),
    colorReplicas('green'),
  ]);
  const replicas: Record<Color, ReplicaStatus[]> = { blue: blueReplicas, green: greenReplicas };
  const colorStatus = (color: Color, health: HealthView): ColorStatus => ({
    color,
    role: color === live ? 'live' : color === preview ? 'preview' : null,
    process: replicas[color][0]?.process ?? 'none',
    pid: replicas[color][0]?.pid ?? null,
    port: running.colors[color].port,
    url: httpUrl(SERVICE_HOST, running.colors[color].port),
    model: running.colors[color].model,
    replicas: { ready: replicas[color].filter((item) => item.health.ok).length, desired: running.replicas },
    replicaList: replicas[color],
    health,
  });
  const supervisor = {
    process: view.process,
    pid: view.pid,
    processes: Object.fromEntries(
      Object.entries(view.processes).map(([name, report]) => [
        name,
        {
          phase: report.phase,
          pid: report.pid,
          restarts: report.restarts,
          lastExit: report.lastExit,
          adopted: report.adopted,
          logTail: report.logTail,
        },
      ]),
    ),
  };
  if (view.process !== 'running')
    notes.push(
      'The supervisor is not running, so nothing restarts a process that crashes: run `npx nx run deploy:up` (a new supervisor adopts what runs).',
    );
  for (const [name, report] of Object.entries(view.processes)) {
    if (report.phase === 'failed')
      notes.push(
        `${name} FAILED after ${report.restarts} restart(s) (${report.lastExit?.reason ?? 'unknown'}); fix the cause, then \`npx nx run deploy:up\` tries again. Last lines of its log:\n${report.logTail ?? ''}`,
      );
  }
  const allReplicas = [...blueReplicas, ...greenReplicas];
  for (const item of allReplicas) {
    if (item.process === 'running' && !item.health.ok && item.replica > 1)
      notes.push(`${item.name} (pid ${item.pid}) does not answer /health on its socket: ${item.health.error ?? item.health.status}.`);
  }
  const allRunning = nginx.kind === 'running' && allReplicas.every((item) => item.process === 'running');
  const routerUrl = httpUrl(running.router.host, running.router.port);
  return {
    ...base,
    stack: allRunning ? 'running' : 'partly running',
    healthy:
      allRunning &&
      view.process === 'running' &&
      blue.ok &&
      green.ok &&
      allReplicas.every((item) => item.health.ok) &&
      serving.ok &&
      (split || serving.color === live),
    routes: links.live && preview ? { live: links.live, preview: allTo(preview) } : state.routes,
    live,
    preview,
    router: {
      url: routerUrl,
      previewUrl: `${routerUrl}${running.previewPathPrefix}`,
      port: running.router.port,
      requestedPort: running.router.requestedPort,
      process: nginx.kind,
      pid: pidOf(nginx),
      serving,
      previewServing,
    },
    colors: { blue: colorStatus('blue', blue), green: colorStatus('green', green) },
    notes,
    supervisor,
    shadow: await shadowStatus(deps, layout),
  };
}

function pidOf(check: ProcessCheck): number | null {
  return 'pid' in check ? check.pid : null;
}
