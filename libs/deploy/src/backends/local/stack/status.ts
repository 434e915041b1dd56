import type { Color } from '@mlbg/contract';
import type { RuntimeDeps } from '../../../effects/deps';
import { type HealthView, checkHealth, healthView } from '../../../effects/service-client';
import { DeployError } from '../../../errors';
import { allTo, describeWeights, mainTarget, soleTarget } from '../../../routing/routes';
import type { BackendStatus, ColorStatus } from '../../backend';
import { type StackLayout, type StackProcess, httpUrl } from '../layout';
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
  const processes: Record<StackProcess, ProcessCheck> = {
    nginx: checkProcess(deps.processes, layout, 'nginx'),
    blue: checkProcess(deps.processes, layout, 'blue'),
    green: checkProcess(deps.processes, layout, 'green'),
  };
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
  const [serving, previewServing, blue, green] = await Promise.all([
    checkHealth(deps.http, router, '/health').then(healthView),
    checkHealth(deps.http, router, `${running.previewPathPrefix}health`).then(healthView),
    checkHealth(deps.http, { host: SERVICE_HOST, port: running.colors.blue.port }).then(healthView),
    checkHealth(deps.http, { host: SERVICE_HOST, port: running.colors.green.port }).then(healthView),
  ]);
  const colorStatus = (color: Color, health: HealthView): ColorStatus => ({
    color,
    role: color === live ? 'live' : color === preview ? 'preview' : null,
    process: processes[color].kind,
    pid: pidOf(processes[color]),
    port: running.colors[color].port,
    url: httpUrl(SERVICE_HOST, running.colors[color].port),
    model: running.colors[color].model,
    health,
  });
  const view = supervisorView(deps, layout);
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
  const allRunning = Object.values(processes).every((check) => check.kind === 'running');
  const routerUrl = httpUrl(running.router.host, running.router.port);
  return {
    ...base,
    stack: allRunning ? 'running' : 'partly running',
    healthy: allRunning && view.process === 'running' && blue.ok && green.ok && serving.ok && (split || serving.color === live),
    routes: links.live && preview ? { live: links.live, preview: allTo(preview) } : state.routes,
    live,
    preview,
    router: {
      url: routerUrl,
      previewUrl: `${routerUrl}${running.previewPathPrefix}`,
      port: running.router.port,
      requestedPort: running.router.requestedPort,
      process: processes.nginx.kind,
      pid: pidOf(processes.nginx),
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
