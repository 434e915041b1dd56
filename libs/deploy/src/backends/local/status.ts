import { Color, HealthResponse } from '@mlbg/contract';
import type { HttpAnswer, HttpTarget, RuntimeDeps } from '../../effects/deps';
import { DeployError } from '../../errors';
import { type HistoryEntry, lastAttempt, lastSuccessfulSwitch, readHistory } from '../../effects/history';
import { type StackLayout, type StackProcess, httpUrl } from './layout';
import { type ProcessCheck, checkProcess } from './processes';
import { readRoute } from './route-links';
import { SERVICE_HOST } from './services';
import { readState } from './state';

/** One /health answer as status shows it. */
export interface HealthView {
  /** 200 with status "ok". */
  readonly ok: boolean;
  readonly httpStatus: number | null;
  readonly status: string | null;
  readonly version: string | null;
  readonly color: string | null;
  readonly featureCount: number | null;
  /** Why there is no answer, or what nginx said instead. */
  readonly error?: string;
}

export interface ColorStatus {
  readonly color: Color;
  readonly role: 'live' | 'preview' | null;
  readonly process: ProcessCheck['kind'];
  readonly pid: number | null;
  readonly port: number | null;
  readonly url: string | null;
  readonly model: string | null;
  readonly health: HealthView;
}

export interface RouterStatus {
  readonly url: string;
  readonly previewUrl: string;
  readonly port: number;
  readonly requestedPort: number;
  readonly process: ProcessCheck['kind'];
  readonly pid: number | null;
  /** What nginx answers on / right now: the version it is serving. */
  readonly serving: HealthView;
  /** What nginx answers on the preview route right now. */
  readonly previewServing: HealthView;
}

/** `deploy:status` for the local stack; `healthy` decides the exit status. */
export interface LocalStatus {
  readonly target: 'local';
  readonly stateDir: string;
  readonly stack: 'never started' | 'stopped' | 'running' | 'partly running';
  readonly healthy: boolean;
  readonly live: Color | null;
  readonly preview: Color | null;
  readonly router: RouterStatus | null;
  readonly colors: Readonly<Record<Color, ColorStatus>> | null;
  readonly lastSwitch: HistoryEntry | null;
  readonly lastAttempt: HistoryEntry | null;
  readonly notes: readonly string[];
}

/**
 * Reads the state, the pid files, the symlinks, each color's /health and what nginx serves.
 * Changes nothing and takes no lock.
 * @throws DeployError STATE_CORRUPT
 */
export async function localStatus(deps: RuntimeDeps, layout: StackLayout): Promise<LocalStatus> {
  const read = readState(layout.stateFile);
  if (read.kind === 'corrupt') throw new DeployError('STATE_CORRUPT', `${read.file}: ${read.problem}.`);
  const history = readHistory(layout.historyFile);
  const notes: string[] = [];
  if (history.skippedLines.length > 0) notes.push(`${layout.historyFile}: skipped unreadable line(s) ${history.skippedLines.join(', ')}.`);
  const base = {
    target: 'local' as const,
    stateDir: layout.stateDir,
    lastSwitch: lastSuccessfulSwitch(history.entries, 'local') ?? null,
    lastAttempt: lastAttempt(history.entries, 'local') ?? null,
  };
  if (read.kind === 'missing' || !read.state.running) {
    const live = read.kind === 'ok' ? read.state.live : null;
    return {
      ...base,
      stack: read.kind === 'missing' ? 'never started' : 'stopped',
      healthy: false,
      live,
      preview: null,
      router: null,
      colors: null,
      notes: [...notes, read.kind === 'missing' ? `No state file at ${read.file}.` : `Stopped; ${live} will be live on the next \`up\`.`],
    };
  }
  const { state } = read;
  const running = state.running as NonNullable<typeof state.running>;
  const processes: Record<StackProcess, ProcessCheck> = {
    nginx: checkProcess(deps.processes, layout, 'nginx'),
    blue: checkProcess(deps.processes, layout, 'blue'),
    green: checkProcess(deps.processes, layout, 'green'),
  };
  const live = readRoute(layout.liveSocket) ?? null;
  const preview = readRoute(layout.previewSocket) ?? null;
  if (live === null) notes.push(`${layout.liveSocket} is missing or does not point at a color's socket.`);
  else if (live !== state.live) notes.push(`The state file says ${state.live} is live, but ${layout.liveSocket} points at ${live} (the symlink is what nginx follows).`);

  const routerUrl = httpUrl(running.router.host, running.router.port);
  const [serving, previewServing, blue, green] = await Promise.all([
    healthView(deps, { host: running.router.host, port: running.router.port }, '/health'),
    healthView(deps, { host: running.router.host, port: running.router.port }, `${running.previewPathPrefix}health`),
    healthView(deps, { host: SERVICE_HOST, port: running.colors.blue.port }, '/health'),
    healthView(deps, { host: SERVICE_HOST, port: running.colors.green.port }, '/health'),
  ]);
  const colorStatus = (color: Color, health: HealthView): ColorStatus => {
    const check = processes[color];
    const record = running.colors[color];
    return {
      color,
      role: color === live ? 'live' : color === preview ? 'preview' : null,
      process: check.kind,
      pid: 'pid' in check ? check.pid : null,
      port: record.port,
      url: httpUrl(SERVICE_HOST, record.port),
      model: record.model,
      health,
    };
  };
  const colors = { blue: colorStatus('blue', blue), green: colorStatus('green', green) };
  const nginx = processes.nginx;
  const allRunning = Object.values(processes).every((check) => check.kind === 'running');
  const healthy = allRunning && blue.ok && green.ok && serving.ok && serving.color === live;
  return {
    ...base,
    stack: allRunning ? 'running' : 'partly running',
    healthy,
    live,
    preview,
    router: {
      url: routerUrl,
      previewUrl: `${routerUrl}${running.previewPathPrefix}`,
      port: running.router.port,
      requestedPort: running.router.requestedPort,
      process: nginx.kind,
      pid: 'pid' in nginx ? nginx.pid : null,
      serving,
      previewServing,
    },
    colors,
    notes,
  };
}

/** GET a /health and describe the answer (or why there is none). */
export async function healthView(deps: Pick<RuntimeDeps, 'http'>, target: HttpTarget, path: string): Promise<HealthView> {
  let answer: HttpAnswer;
  try {
    answer = await deps.http(target, { method: 'GET', path, timeoutMs: 3_000 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return emptyView(code === 'ECONNREFUSED' ? 'connection refused (not running)' : (error as Error).message);
  }
  return viewOf(answer);
}

/** Describes an answer to GET /health. Pure. */
export function viewOf(answer: HttpAnswer): HealthView {
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    body = undefined;
  }
  const health = HealthResponse.safeParse(body);
  if (!health.success) {
    const detail = (body as { detail?: unknown } | undefined)?.detail;
    return { ...emptyView(typeof detail === 'string' ? detail : answer.body.slice(0, 200)), httpStatus: answer.status, color: answer.headers['x-color'] ?? null };
  }
  return {
    ok: answer.status === 200 && health.data.status === 'ok',
    httpStatus: answer.status,
    status: health.data.status,
    version: health.data.version,
    color: answer.headers['x-color'] ?? health.data.color,
    featureCount: health.data.feature_count,
  };
}

function emptyView(error: string): HealthView {
  return { ok: false, httpStatus: null, status: null, version: null, color: null, featureCount: null, error };
}
