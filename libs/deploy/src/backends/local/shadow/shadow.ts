import { randomBytes } from 'node:crypto';
import { copyFileSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessInfo, RuntimeDeps } from '../../../effects/deps';
import { DeployError } from '../../../errors';
import { DEFAULT_RELAY_MAX_BODY_BYTES, RELAY_CONFIG_PATH, RELAY_STATUS_PATH, type RelayStatus } from './relay/relay';
import { runCapture } from './capture-run';
import { PREVIEW_LINK, SHADOW_RELAY_SOCKET, SHADOW_SOCKET, replicaNumbers, replicaSocket } from '../../../spec/sockets';
import type { CaptureRequest, CaptureResult, ShadowRequest, ShadowStatus, StoppedProcess } from '../../backend';
import { SHADOW_RELAY, STACK_ENV_MARKER, type StackLayout } from '../layout';
import { readPidFile, removePidFile, stopProcess } from '../stack/processes';
import { readState, runningReplicas } from '../stack/state';
import { logTail } from '../services/color-service';
import { awaitSupervised, checkSupervisor, currentPlan, logOffsets, updatePlan, withProcess } from '../supervisor/supervisor-control';
import { type SupervisedProcess, type SupervisorPlan, writePlan } from '../supervisor/supervisor-files';

/**
 * Shadow traffic on the local stack: the relay process (libs/deploy/src/backends/local/shadow/relay) and the
 * `shadow.sock` link nginx's mirror follows. The relay is one more entry of the supervisor's plan
 * while shadow traffic is on (restarted when it dies, in `status`): `startShadowRelay` adds it,
 * `stopShadowRelay` takes it out and stops it (also called by `down`, after the supervisor).
 */

/** Relative to the workspace root: the relay runs from source, as the CLI does. */
const RELAY_MAIN = 'libs/deploy/src/backends/local/shadow/relay/main.ts';
const SWC_PROJECT = 'libs/deploy/tsconfig.lib.json';
const RELAY_START_TIMEOUT_MS = 15_000;
const RELAY_STOP_TIMEOUT_MS = 5_000;
const POLL_MS = 100;

/** The relay's files: where it listens (nginx's socket, its control socket), the link nginx follows, its pid file and log. */
export function shadowPaths(layout: StackLayout) {
  return {
    relaySocket: join(layout.socketDir, SHADOW_RELAY_SOCKET),
    // Beside the sockets nginx reaches, but in a folder of its own that only this user can open.
    controlSocket: join(layout.runtimeDir, 'relay', 'shadow-relay-control.sock'),
    // In the state folder: the relay creates capture files there only; `capture` then copies one where asked.
    captureDir: join(layout.stateDir, 'captures'),
    link: join(layout.socketDir, SHADOW_SOCKET),
    pidFile: layout.pidFile(SHADOW_RELAY),
    logFile: layout.logFile(SHADOW_RELAY),
    main: join(layout.workspaceRoot, RELAY_MAIN),
  };
}

function isRelay(layout: StackLayout, info: ProcessInfo): boolean {
  if (!info.cmdline.includes(shadowPaths(layout).main)) return false;
  return !info.environ || info.environ[STACK_ENV_MARKER] === layout.stateDir;
}

/** The relay's pid when it runs (and is ours). */
function relayPid(deps: RuntimeDeps, layout: StackLayout): number | null {
  const read = readPidFile(shadowPaths(layout).pidFile);
  if (read.kind !== 'ok') return null;
  const info = deps.processes.inspect(read.pid);
  return info && isRelay(layout, info) ? read.pid : null;
}

async function relayCall(
  deps: RuntimeDeps,
  layout: StackLayout,
  call: { method: 'GET' | 'POST'; path: string; body?: string },
): Promise<RelayStatus> {
  const answer = await deps.http({ socketPath: shadowPaths(layout).controlSocket }, { ...call, timeoutMs: 2_000 });
  if (answer.status !== 200) throw new Error(`the relay answered ${answer.status}: ${answer.body.slice(0, 200)}`);
  return JSON.parse(answer.body) as RelayStatus;
}

/**
 * The relay as a supervised process: forwarding to every replica behind the `preview` link (the
 * idle color), probed on its status route. The queue size is fixed when it starts (its config);
 * the percent is set on the running relay and kept here for a restart.
 */
export function relayProcess(deps: RuntimeDeps, layout: StackLayout, request: ShadowRequest, replicas: number): SupervisedProcess {
  const paths = shadowPaths(layout);
  const inherited = Object.fromEntries(Object.entries(deps.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return {
    name: SHADOW_RELAY,
    command: deps.nodeBinary,
    args: ['-r', '@swc-node/register', paths.main],
    cwd: layout.workspaceRoot,
    env: {
      ...inherited,
      SWC_NODE_PROJECT: join(layout.workspaceRoot, SWC_PROJECT),
      RELAY_SOCKET: paths.relaySocket,
      RELAY_CONTROL_SOCKET: paths.controlSocket,
      RELAY_CAPTURE_DIR: paths.captureDir,
      // nginx lets no longer body through; the relay holds none longer either.
      RELAY_MAX_BODY_BYTES: String(bodyLimitBytes(layout)),
      RELAY_TARGET_SOCKETS: replicaNumbers(replicas)
        .map((replica) => join(layout.socketDir, PREVIEW_LINK, replicaSocket(replica)))
        .join('\n'),
      RELAY_PERCENT: String(request.percent),
      RELAY_QUEUE_SIZE: String(request.queueSize),
      [STACK_ENV_MARKER]: layout.stateDir,
    },
    logFile: paths.logFile,
    pidFile: paths.pidFile,
    stopSignal: 'SIGTERM',
    match: { cmdline: [paths.main], env: { [STACK_ENV_MARKER]: layout.stateDir } },
    config: JSON.stringify({ main: paths.main, queueSize: request.queueSize, replicas }),
    probe: { socketPath: paths.controlSocket, path: RELAY_STATUS_PATH, expect: 'ok' },
  };
}

/** The running stack's body limit (what its nginx lets through), or nginx's default. */
function bodyLimitBytes(layout: StackLayout): number {
  const read = readState(layout.stateFile);
  return read.kind === 'ok' ? (read.state.running?.service.bodyLimitBytes ?? DEFAULT_RELAY_MAX_BODY_BYTES) : DEFAULT_RELAY_MAX_BODY_BYTES;
}

/** The plan without the relay, followed by the supervisor when it runs (true then: it stops the relay). */
function unplanRelay(deps: RuntimeDeps, layout: StackLayout): boolean {
  let plan: SupervisorPlan;
  try {
    plan = currentPlan(layout);
  } catch {
    return false;
  }
  if (!plan.processes.some((item) => item.name === SHADOW_RELAY)) return false;
  const next = { ...plan, processes: plan.processes.filter((item) => item.name !== SHADOW_RELAY) };
  if (checkSupervisor(deps, layout).kind !== 'running') {
    // A later partial `up` starts a supervisor on this plan: it must not bring the relay back.
    writePlan(layout.supervisorPlanFile, next);
    return false;
  }
  updatePlan(deps, layout, next);
  return true;
}

/** Has the supervisor start the relay and waits until the relay answers. */
export async function startShadowRelay(deps: RuntimeDeps, layout: StackLayout, request: ShadowRequest): Promise<number> {
  const paths = shadowPaths(layout);
  const relay = relayProcess(deps, layout, request, runningReplicas(layout.stateFile));
  // updatePlan refuses (STACK_NOT_RUNNING, run `up`) when no supervisor runs: an unsupervised relay would not come back.
  const offsets = logOffsets(layout, [SHADOW_RELAY]);
  const since = deps.clock.now();
  updatePlan(deps, layout, withProcess(currentPlan(layout), relay));
  const fail = (why: string, logOffset: number): never => {
    unplanRelay(deps, layout);
    throw new DeployError('SHADOW_FAILED', `The relay ${why}. Last lines of ${paths.logFile}:\n${logTail(paths.logFile, logOffset)}`);
  };
  const [started] = await awaitSupervised(deps, layout, [{ name: SHADOW_RELAY, config: relay.config }], offsets, since).catch(
    (error: unknown) =>
      fail(
        `was not started by the supervisor (${error instanceof DeployError ? error.detail.split('\n')[0] : (error as Error).message})`,
        offsets.get(SHADOW_RELAY) ?? 0,
      ),
  );
  const { pid, logOffset } = started as NonNullable<typeof started>;
  for (;;) {
    try {
      await relayCall(deps, layout, { method: 'GET', path: RELAY_STATUS_PATH });
      return pid;
    } catch (error) {
      if (deps.clock.now() - since > RELAY_START_TIMEOUT_MS)
        return fail(`did not answer within ${RELAY_START_TIMEOUT_MS} ms (${(error as Error).message})`, logOffset);
      await deps.clock.sleep(POLL_MS);
    }
  }
}

/**
 * Stops the relay if it runs (the link first, so nginx stops mirroring before the relay goes):
 * out of the supervisor's plan (a running supervisor stops it then), and stopped here if it is
 * still there (after `down` stopped the supervisor, or when it does not go in time).
 */
export async function stopShadowRelay(
  deps: RuntimeDeps,
  layout: StackLayout,
  timeoutMs = RELAY_STOP_TIMEOUT_MS,
): Promise<StoppedProcess | undefined> {
  const paths = shadowPaths(layout);
  rmSync(paths.link, { force: true });
  const read = readPidFile(paths.pidFile);
  const began = deps.clock.now();
  if (unplanRelay(deps, layout) && read.kind === 'ok') {
    while (deps.processes.inspect(read.pid) && deps.clock.now() - began < timeoutMs) await deps.clock.sleep(POLL_MS);
    if (!deps.processes.inspect(read.pid)) {
      removePidFile(paths.pidFile);
      return { name: SHADOW_RELAY, pid: read.pid, result: 'stopped', ms: deps.clock.now() - began };
    }
  }
  if (read.kind !== 'ok') {
    removePidFile(paths.pidFile);
    return undefined;
  }
  const result = await stopProcess(deps, read.pid, (info) => isRelay(layout, info), {
    label: SHADOW_RELAY,
    signal: 'SIGTERM',
    timeoutMs,
    progress: deps.progress,
  });
  if (result.kind !== 'survived') removePidFile(paths.pidFile);
  const outcome: StoppedProcess['result'] =
    result.kind === 'not-running'
      ? 'was not running'
      : result.kind === 'not-ours'
        ? 'not ours, left alone'
        : result.kind === 'survived'
          ? 'survived SIGKILL'
          : result.kind;
  return { name: SHADOW_RELAY, pid: read.pid, result: outcome, ...('ms' in result ? { ms: result.ms } : {}) };
}

/** Whether nginx mirrors now (the link exists), and the relay's counters. */
export async function shadowStatus(deps: RuntimeDeps, layout: StackLayout): Promise<ShadowStatus> {
  const pid = relayPid(deps, layout);
  let relay: RelayStatus | null = null;
  const notes: string[] = [];
  if (pid !== null) {
    try {
      relay = await relayCall(deps, layout, { method: 'GET', path: RELAY_STATUS_PATH });
    } catch (error) {
      notes.push(`The relay (pid ${pid}) does not answer: ${(error as Error).message}.`);
    }
  }
  const on = linkExists(layout);
  if (on && pid === null)
    notes.push(
      `${shadowPaths(layout).link} exists but no relay runs: nginx's copies fail at once (the live requests are not affected). Run \`deploy:shadow off\` or \`on\`.`,
    );
  return { on, percent: relay?.percent ?? null, pid, relay, notes };
}

function linkExists(layout: StackLayout): boolean {
  try {
    return readlinkSync(shadowPaths(layout).link) === SHADOW_RELAY_SOCKET;
  } catch {
    return false;
  }
}

/** `deploy:shadow on`: the relay runs (started, or given the new percent), then the link is made. */
export async function shadowOn(deps: RuntimeDeps, layout: StackLayout, request: ShadowRequest): Promise<ShadowStatus> {
  if (relayPid(deps, layout) === null) await startShadowRelay(deps, layout, request);
  else await setRelayPercent(deps, layout, request.percent);
  const { link } = shadowPaths(layout);
  // A new link renamed over the old: nginx sees the mirror on or off, never half made.
  rmSync(`${link}.next`, { force: true });
  symlinkSync(SHADOW_RELAY_SOCKET, `${link}.next`);
  renameSync(`${link}.next`, link);
  return shadowStatus(deps, layout);
}

/** A new percent for the running relay, and in its plan entry (a restart keeps it; its queue size stays). */
async function setRelayPercent(deps: RuntimeDeps, layout: StackLayout, percent: number): Promise<void> {
  await relayCall(deps, layout, { method: 'POST', path: RELAY_CONFIG_PATH, body: JSON.stringify({ percent }) });
  const plan = currentPlan(layout);
  const relay = plan.processes.find((item) => item.name === SHADOW_RELAY);
  if (relay && checkSupervisor(deps, layout).kind === 'running')
    updatePlan(deps, layout, withProcess(plan, { ...relay, env: { ...relay.env, RELAY_PERCENT: String(percent) } }));
}

/** `deploy:shadow off`: the link goes first (nginx answers its copies itself at once), then the relay. */
export async function shadowOff(deps: RuntimeDeps, layout: StackLayout): Promise<ShadowStatus & { readonly final: RelayStatus | null }> {
  const before = await shadowStatus(deps, layout);
  rmSync(shadowPaths(layout).link, { force: true });
  await stopShadowRelay(deps, layout);
  return { ...(await shadowStatus(deps, layout)), final: before.relay };
}

const CAPTURE_POLL_MS = 250;
const CAPTURE_PROGRESS_MS = 2_000;

/**
 * `deploy:capture`: the relay writes the next `n` mirrored live bodies to a new file of its capture
 * folder (it writes nowhere else), which is then copied to `file` (by this process, as the user who
 * asked) and removed. With shadow off, the mirror is turned on with 0% forwarded for the capture
 * only, and off again afterwards.
 */
export async function captureBodies(deps: RuntimeDeps, layout: StackLayout, request: CaptureRequest): Promise<CaptureResult> {
  const before = await shadowStatus(deps, layout);
  const shadowWasOff = !before.on || before.pid === null;
  const name = `capture-${deps.clock.now()}-${randomBytes(4).toString('hex')}.jsonl`;
  const relayFile = join(shadowPaths(layout).captureDir, name);
  if (shadowWasOff) await shadowOn(deps, layout, { percent: 0, queueSize: request.queueSize });
  try {
    const { captured, timedOut } = await runCapture(
      {
        call: (call) => relayCall(deps, layout, call),
        clock: deps.clock,
        progress: deps.progress,
        pollMs: CAPTURE_POLL_MS,
        stoppingPollMs: POLL_MS,
        progressMs: CAPTURE_PROGRESS_MS,
        writeFailed: (lastError) =>
          new DeployError('SHADOW_FAILED', `The relay could not write ${relayFile} (${lastError}).`, {
            hint: `Check that ${shadowPaths(layout).captureDir} is a folder of yours with room left.`,
          }),
        copyOut: async (file) => copyFileSync(relayFile, file),
      },
      request,
      name,
    );
    return { file: request.file, n: request.n, captured, timedOut, shadowWasOff };
  } finally {
    rmSync(relayFile, { force: true });
    if (shadowWasOff) await shadowOff(deps, layout);
  }
}
