import { type Color, type HealthResponse, type ModelSignature, colorServiceEnv } from '@mlbg/contract';
import { checkHealth } from '../../../effects/service-client';
import {
  closeSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { HttpTarget, RuntimeDeps } from '../../../effects/deps';
import { DeployError } from '../../../errors';
import { REPLICA_ENV_MARKER, STACK_ENV_MARKER, type StackLayout, type StackProcess } from '../layout';
import type { ColorRun, RunningStack } from '../stack/state';

/** The services listen on loopback only; nginx is the way in (and each color's port for direct checks). */
export const SERVICE_HOST = '127.0.0.1';
/** How long `up` and `release` wait for health by default. */
export const DEFAULT_START_TIMEOUT_MS = 60_000;
const POLL_MS = 200;
const PROGRESS_EVERY_MS = 1_000;
const LOG_TAIL_LINES = 12;
const LOG_LINE_MAX = 300;

/** A model file given by the user: where it is, and how to show it (relative to the workspace when inside). */
export interface ModelFile {
  readonly path: string;
  readonly display: string;
}

/** @throws DeployError MODEL_NOT_FOUND */
export function resolveModel(workspaceRoot: string, path: string, what: string): ModelFile {
  const absolute = resolve(workspaceRoot, path);
  let isFile = false;
  try {
    isFile = statSync(absolute).isFile();
  } catch {
    // missing
  }
  if (!isFile) throw new DeployError('MODEL_NOT_FOUND', `${what}: ${path} (looked for ${absolute}).`);
  const inside = relative(workspaceRoot, absolute);
  return { path: absolute, display: inside.startsWith('..') || isAbsolute(inside) ? absolute : inside };
}

/** @throws DeployError SERVICE_NOT_BUILT */
export function requireServiceBuilt(layout: StackLayout): void {
  if (!existsSync(layout.serviceBuild.main)) throw new DeployError('SERVICE_NOT_BUILT', `${layout.serviceBuild.main} does not exist.`);
}

/**
 * Copies the built service (its app folder and the libs it requires) into the stack's own folder,
 * so its colors never run files a later build deletes. `release` restarts a color from the same
 * copy; the next `up` takes a fresh one.
 */
export function copyServiceBuild(layout: StackLayout): void {
  if (removeServiceCopy(layout) === 'not ours')
    throw new DeployError(
      'USAGE',
      `${layout.serviceCopyDir} exists and was not made by deploy:up, so it is left as it is: give --state-dir a folder of the stack's own (the default .bluegreen, or a new one).`,
    );
  mkdirSync(layout.serviceCopyDir, { recursive: true });
  writeFileSync(
    join(layout.serviceCopyDir, SERVICE_COPY_MARKER),
    'Made by deploy:up (the service its colors run); deploy:down removes it.\n',
  );
  for (const part of layout.serviceBuild.parts) {
    cpSync(join(layout.serviceBuild.dir, part), join(layout.serviceCopyDir, part), { recursive: true });
  }
}

/** Marks the service copy as the stack's: `up` and `down` delete no folder they did not make. */
const SERVICE_COPY_MARKER = '.mlbg-service-copy';

/**
 * Removes the stack's copy of the service: one with the marker, or one from before the marker that
 * holds nothing but the copied parts. Anything else at that path is someone else's: left alone.
 */
export function removeServiceCopy(layout: StackLayout): 'removed' | 'absent' | 'not ours' {
  let entries: string[];
  try {
    if (!lstatSync(layout.serviceCopyDir).isDirectory()) return 'not ours';
    entries = readdirSync(layout.serviceCopyDir);
  } catch {
    return 'absent';
  }
  const parts = new Set(layout.serviceBuild.parts.map((part) => part.split('/')[0]));
  const ours = entries.includes(SERVICE_COPY_MARKER) || entries.every((entry) => parts.has(entry));
  if (!ours) return 'not ours';
  rmSync(layout.serviceCopyDir, { recursive: true, force: true });
  return 'removed';
}

/** One replica of a color to start. */
export interface ColorLaunch {
  readonly color: Color;
  /** 1-based; replica 1 listens on the color's port, the others on their socket only. */
  readonly replica: number;
  readonly model: ModelFile;
  /** The color's port (replica 1's). */
  readonly port: number;
  readonly service: RunningStack['service'];
}

/** A port the system picks: replicas after the first have a socket only (nginx's way in); TCP is for direct checks of replica 1. */
const ANY_PORT = 0;

/** The TCP port a replica listens on. */
export function replicaPort(launch: Pick<ColorLaunch, 'replica' | 'port'>): number {
  return launch.replica === 1 ? launch.port : ANY_PORT;
}

/** A process that was started, and where its log for this start begins. */
export interface Started {
  readonly name: StackProcess;
  readonly pid: number;
  readonly logFile: string;
  readonly logOffset: number;
}

/** The environment a replica runs with: its model, port, socket, limits and the stack's markers. */
export function colorEnv(deps: RuntimeDeps, layout: StackLayout, launch: ColorLaunch): Record<string, string> {
  const inherited = Object.fromEntries(Object.entries(deps.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return {
    ...inherited,
    ...colorServiceEnv({
      color: launch.color,
      host: SERVICE_HOST,
      port: replicaPort(launch),
      modelPath: launch.model.path,
      socketPath: layout.replicaSocket(launch.color, launch.replica),
      bodyLimitBytes: launch.service.bodyLimitBytes,
      maxBatchRows: launch.service.maxBatchRows,
      logLevel: launch.service.logLevel,
      // nginx logs every request; a color logs its errors only, unless the command's environment asks for more.
      logRequests: deps.env['LOG_REQUESTS'] === 'true',
    }),
    // The copy lives in the state folder, maybe outside the workspace: third-party modules come from here.
    NODE_PATH: join(layout.workspaceRoot, 'node_modules'),
    [STACK_ENV_MARKER]: layout.stateDir,
    [REPLICA_ENV_MARKER]: String(launch.replica),
  };
}

/** Writes a separator line into a log and returns where this start's output begins. */
export function appendLogHeader(file: string, text: string): number {
  const fd = openSync(file, 'a');
  try {
    const offset = statSync(file).size;
    writeSync(fd, `--- ${new Date().toISOString()} ${text} ---\n`);
    return offset;
  } finally {
    closeSync(fd);
  }
}

/** The last lines a process wrote since `offset`, indented, for failure messages. */
export function logTail(file: string, offset: number): string {
  let text = '';
  try {
    const size = statSync(file).size;
    const start = Math.max(offset, size - 64 * 1024);
    const buffer = Buffer.alloc(size - start);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, start);
    } finally {
      closeSync(fd);
    }
    text = buffer.toString('utf8');
  } catch {
    return `  (no log at ${file})`;
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('--- '));
  if (lines.length === 0) return `  (${file} is empty)`;
  return lines
    .slice(-LOG_TAIL_LINES)
    .map((line) => `  | ${line.length > LOG_LINE_MAX ? `${line.slice(0, LOG_LINE_MAX)}...` : line}`)
    .join('\n');
}

/** One look at something starting up. */
export type Readiness<T> =
  { readonly ready: true; readonly facts: T; readonly note: string } | { readonly ready: false; readonly note: string };

/** What a healthy color told us about itself. */
export interface ColorFacts {
  readonly version: string;
  readonly featureCount: number;
  readonly modelSha256: string;
  readonly signature?: ModelSignature;
}

/** A replica is ready when its socket (and, for replica 1, the color's port) answers /health 200 "ok" as that color. */
export async function probeReplica(
  deps: RuntimeDeps,
  layout: StackLayout,
  launch: Pick<ColorLaunch, 'color' | 'replica' | 'port'>,
): Promise<Readiness<ColorFacts>> {
  const { color } = launch;
  const viaSocket = await probeHealth(deps, { socketPath: layout.replicaSocket(color, launch.replica) });
  if (!viaSocket.ready) return viaSocket;
  if (viaSocket.facts.color !== color) return { ready: false, note: `its socket is answered by ${viaSocket.facts.color}` };
  const port = replicaPort(launch);
  const viaPort = port === ANY_PORT ? viaSocket : await probeHealth(deps, { host: SERVICE_HOST, port });
  if (!viaPort.ready) return { ready: false, note: `socket ok, port ${port}: ${viaPort.note}` };
  const health = viaSocket.facts;
  return {
    ready: true,
    facts: {
      version: health.version,
      featureCount: health.feature_count,
      modelSha256: health.model_sha256,
      ...(health.signature ? { signature: health.signature } : {}),
    },
    note: `ok ${health.version}`,
  };
}

async function probeHealth(deps: RuntimeDeps, target: HttpTarget): Promise<Readiness<HealthResponse>> {
  const check = await checkHealth(deps.http, target, '/health', 2_000);
  if (check.kind === 'ok') return { ready: true, facts: check.health, note: `ok ${check.health.version}` };
  if (check.kind === 'no-answer')
    return { ready: false, note: check.code === 'ENOENT' || check.code === 'ECONNREFUSED' ? 'starting' : check.problem };
  return { ready: false, note: `${check.answer.status}${check.health ? ` ${check.health.status}` : ''}` };
}

export interface AwaitedProcess<T> {
  readonly started: Started;
  readonly probe: () => Promise<Readiness<T>>;
}

export type WaitResult<T> =
  | { readonly ok: true; readonly facts: ReadonlyMap<StackProcess, T> }
  | { readonly ok: false; readonly failed: Started; readonly reason: string };

/**
 * Polls each process until all are ready, printing a progress line every second. Fails at once
 * when a process exits, else after `timeoutMs`.
 */
export async function waitUntilReady<T>(deps: RuntimeDeps, items: readonly AwaitedProcess<T>[], timeoutMs: number): Promise<WaitResult<T>> {
  const started = deps.clock.now();
  const facts = new Map<StackProcess, T>();
  const notes = new Map<StackProcess, string>();
  let nextReport = started + PROGRESS_EVERY_MS;
  for (;;) {
    for (const item of items) {
      if (facts.has(item.started.name)) continue;
      if (!deps.processes.inspect(item.started.pid)) {
        return { ok: false, failed: item.started, reason: `${item.started.name} (pid ${item.started.pid}) exited while starting` };
      }
      const probe = await item.probe();
      notes.set(item.started.name, probe.note);
      if (probe.ready) facts.set(item.started.name, probe.facts);
    }
    if (facts.size === items.length) return { ok: true, facts };
    const now = deps.clock.now();
    if (now - started >= timeoutMs) {
      const waiting = items.find((item) => !facts.has(item.started.name)) as AwaitedProcess<T>;
      return {
        ok: false,
        failed: waiting.started,
        reason: `${waiting.started.name} was not healthy after ${Math.round(timeoutMs / 1000)} s (last: ${notes.get(waiting.started.name) ?? 'no answer'})`,
      };
    }
    if (now >= nextReport) {
      deps.progress(
        `  ${((now - started) / 1000).toFixed(0).padStart(3)} s  ${items.map((item) => `${item.started.name}: ${notes.get(item.started.name) ?? '...'}`).join('  |  ')}`,
      );
      nextReport = now + PROGRESS_EVERY_MS;
    }
    await deps.clock.sleep(POLL_MS);
  }
}

/** The record of a color that just became healthy. */
export function colorRun(launch: ColorLaunch, facts: ColorFacts | undefined, startedAt: string): ColorRun {
  return {
    model: launch.model.display,
    port: launch.port,
    startedAt,
    ...(facts
      ? {
          version: facts.version,
          featureCount: facts.featureCount,
          modelSha256: facts.modelSha256,
          ...(facts.signature ? { signature: facts.signature } : {}),
        }
      : {}),
  };
}
