import { type Color, describeSignatureDifferences, otherColor } from '@mlbg/contract';
import type { RuntimeDeps } from '../../../effects/deps';
import { DeployError } from '../../../errors';
import { type StackLayout, httpUrl, replicaName } from '../layout';
import { requireRunningStack } from '../local-backend';
import { readPidFile } from './processes';
import {
  awaitSupervised,
  awaitSupervisorReady,
  colorProcess,
  currentPlan,
  logOffsets,
  updatePlan,
  withProcess,
} from '../supervisor/supervisor-control';
import { readLink } from '../nginx/route-links';
import { describeWeights, soleTarget } from '../../../routing/routes';
import { checkHealth, healthView } from '../../../effects/service-client';
import { INITIAL_LIVE_COLOR, replicaNumbers } from '../../../spec/sockets';
import type { ReleaseRequest, ReleaseResult } from '../../backend';
import {
  type ColorFacts,
  type ColorLaunch,
  DEFAULT_START_TIMEOUT_MS,
  type ModelFile,
  type Started,
  colorRun,
  logTail,
  probeReplica,
  resolveModel,
  waitUntilReady,
} from '../services/color-service';
import { type RunningStack, type StackState, writeState } from './state';

const PREVIEW_CHECKS = 3;
const PREVIEW_RETRY_MS = 200;

/**
 * `deploy:release`: restarts the idle color on a new model, replica by replica: each old replica
 * is stopped (it drains until nginx holds no connection to it), its successor started and checked
 * healthy before the next one is stopped, so the idle color never has fewer than all but one
 * replica serving. Then records the release and checks that the preview route reaches it. Never
 * touches the live color. If a replica does not start on the new model, every replica already
 * moved is started again on the previous model.
 * @throws DeployError MODEL_NOT_FOUND, STACK_NOT_RUNNING, LIVE_COLOR_RELEASE, RELEASE_FAILED, PREVIEW_UNREACHABLE
 */
export async function releaseModel(deps: RuntimeDeps, layout: StackLayout, request: ReleaseRequest): Promise<ReleaseResult> {
  const begin = deps.clock.now();
  if (!request.model)
    throw new DeployError(
      'USAGE',
      'A release on the local stack needs --model=<path to an .onnx file>, e.g. --model=models/v1.1.0/model.onnx.',
    );
  if (request.image) throw new DeployError('USAGE', 'The local stack runs no images: leave out --image (it is for --backend=compose).');
  const model = resolveModel(layout.workspaceRoot, request.model, 'the model to release');
  const state = requireRunningStack(deps, layout);
  const { running } = state;
  if (!soleTarget(state.routes.live))
    throw new DeployError(
      'CANARY_IN_PROGRESS',
      `The live route is ${describeWeights(state.routes.live)}; releasing to either color would change a color that takes live traffic.`,
    );
  const live = readLink(layout.liveLink) ?? soleTarget(state.routes.live) ?? INITIAL_LIVE_COLOR;
  const idle = otherColor(live);
  if (request.color === live) {
    throw new DeployError(
      'LIVE_COLOR_RELEASE',
      `${live} is live (${running.colors[live].version ?? 'version unknown'}); the idle color is ${idle}.`,
    );
  }
  const color = request.color ?? idle;
  const previous = running.colors[color];
  const launches = colorLaunches({ color, model, port: previous.port, service: running.service }, running.replicas);
  // Each release is a new config, even of the same model: a release always restarts the color.
  const release = `release ${new Date(deps.clock.now()).toISOString()}`;

  deps.progress(
    `Releasing ${model.display} to ${color} (idle; ${live} stays live): the supervisor replaces its ${launches.length} replica(s) one by one...`,
  );
  const moved: ColorLaunch[] = [];
  const started: Started[] = [];
  let facts: ColorFacts | undefined;
  for (const launch of launches) {
    const replaced = await replaceReplica(deps, layout, launch, release, request.timeoutMs);
    if (!replaced.ok) {
      const restored = await restore(
        deps,
        layout,
        state,
        [...moved, launch].map((item) => ({ ...item, model: resolvePrevious(layout, previous.model) })),
        request.timeoutMs,
      );
      throw new DeployError('RELEASE_FAILED', `${replaced.why}\n${restored}`);
    }
    facts ??= replaced.facts;
    moved.push(launch);
    started.push(replaced.started);
  }
  const ready = facts as ColorFacts;
  const startedAt = new Date(deps.clock.now()).toISOString();
  const first = launches[0] as ColorLaunch;
  const next: StackState = {
    ...state,
    models: { ...state.models, [color]: model.display },
    running: { ...running, colors: { ...running.colors, [color]: colorRun(first, ready, startedAt) } },
  };
  writeState(layout.stateFile, next);

  const previewUrl = `${httpUrl(running.router.host, running.router.port)}${running.previewPathPrefix}`;
  await checkPreview(deps, running, color, ready.version, previewUrl);

  const liveRun = running.colors[live];
  const notes: string[] = [];
  const differences = liveRun.signature && ready.signature ? describeSignatureDifferences(liveRun.signature, ready.signature) : [];
  if (differences.length > 0) {
    notes.push(
      `Its signature differs from live ${live}'s (${differences.join('; ')}), so deploy:switch will refuse to send live traffic to it.`,
    );
  } else if (!ready.signature && liveRun.featureCount !== undefined && liveRun.featureCount !== ready.featureCount) {
    notes.push(
      `Its input signature differs from live ${live}'s: ${ready.featureCount} feature(s) per row instead of ${liveRun.featureCount}, so deploy:switch will refuse to send live traffic to it.`,
    );
  }
  return {
    color,
    model: model.display,
    previousModel: previous.model,
    previous: { model: previous.model, image: null },
    pid: started[0]?.pid ?? null,
    replicas: started.map((item) => ({ name: item.name, pid: item.pid })),
    version: ready.version,
    featureCount: ready.featureCount,
    modelSha256: ready.modelSha256,
    previewUrl,
    live: { color: live, version: liveRun.version ?? null, featureCount: liveRun.featureCount ?? null },
    notes,
    durationMs: deps.clock.now() - begin,
  };
}

/** Every replica's launch of a color (the same but for their number). */
function colorLaunches(launch: Omit<ColorLaunch, 'replica'>, replicas: number): ColorLaunch[] {
  return replicaNumbers(replicas).map((replica) => ({ ...launch, replica }));
}

type Replaced = { readonly ok: true; readonly started: Started; readonly facts: ColorFacts } | { readonly ok: false; readonly why: string };

/**
 * One replica on a new config: the supervisor stops the old process (which drains until nginx
 * holds no connection to it) and starts the new one; then it must answer healthy in time.
 */
async function replaceReplica(
  deps: RuntimeDeps,
  layout: StackLayout,
  launch: ColorLaunch,
  release: string,
  timeoutMs: number | undefined,
): Promise<Replaced> {
  const name = replicaName(launch.color, launch.replica);
  const started = await superviseReplica(deps, layout, launch, release);
  deps.progress(`Started ${name} (pid ${started.pid}) on ${launch.model.display}; waiting until it is healthy...`);
  const ready = await waitUntilReady(
    deps,
    [{ started, probe: () => probeReplica(deps, layout, launch) }],
    timeoutMs ?? DEFAULT_START_TIMEOUT_MS,
  );
  if (!ready.ok)
    return { ok: false, why: `${ready.reason}.\nLast lines of ${started.logFile}:\n${logTail(started.logFile, started.logOffset)}` };
  await awaitSupervisorReady(deps, layout, [started]);
  return { ok: true, started, facts: ready.facts.get(name) as ColorFacts };
}

/**
 * Asks the supervisor to run `launch` in place of what the replica runs now (it stops the old
 * process and starts the new one, so it never fights the release) and waits for the new pid.
 */
async function superviseReplica(deps: RuntimeDeps, layout: StackLayout, launch: ColorLaunch, release: string): Promise<Started> {
  const plan = currentPlan(layout);
  const process = colorProcess(deps, layout, launch);
  const next = { ...process, config: `${process.config} ${release}` };
  const name = replicaName(launch.color, launch.replica);
  const old = readPidFile(layout.pidFile(name));
  const offsets = logOffsets(layout, [name]);
  const since = deps.clock.now();
  updatePlan(deps, layout, withProcess(plan, next));
  const [started] = await awaitSupervised(
    deps,
    layout,
    [{ name, config: next.config, ...(old.kind === 'ok' ? { not: old.pid } : {}) }],
    offsets,
    since,
  );
  return started as Started;
}

function resolvePrevious(layout: StackLayout, display: string): ModelFile {
  try {
    return resolveModel(layout.workspaceRoot, display, 'the previous model');
  } catch {
    return { path: display, display };
  }
}

/** Starts the replicas a failed release moved on their previous model again, one by one; says how that went. */
async function restore(
  deps: RuntimeDeps,
  layout: StackLayout,
  state: StackState & { running: RunningStack },
  launches: readonly ColorLaunch[],
  timeoutMs: number | undefined,
): Promise<string> {
  const first = launches[0];
  if (!first) return 'Nothing was changed.';
  const { color, model } = first;
  deps.progress(`The new model did not start; starting ${color}'s replicas again on its previous model ${model.display}...`);
  const restart = `restore ${new Date(deps.clock.now()).toISOString()}`;
  let facts: ColorFacts | undefined;
  for (const launch of launches) {
    const name = replicaName(launch.color, launch.replica);
    let replaced: Replaced;
    try {
      replaced = await replaceReplica(deps, layout, launch, restart, timeoutMs);
    } catch (error) {
      return `${name} could not be started again on ${model.display}: ${(error as Error).message}. The preview route answers 503 until it runs.`;
    }
    if (!replaced.ok) {
      return `${name} did not come back on its previous model ${model.display} either (${replaced.why.split('\n')[0]}); the supervisor keeps trying (see deploy:status), and the preview route may answer 503 meanwhile.`;
    }
    facts ??= replaced.facts;
  }
  const startedAt = new Date(deps.clock.now()).toISOString();
  writeState(layout.stateFile, {
    ...state,
    running: { ...state.running, colors: { ...state.running.colors, [color]: colorRun(first, facts, startedAt) } },
  });
  return `${color} runs its previous model ${model.display} (${facts?.version ?? 'version unknown'}) again on every replica it had moved.`;
}

async function checkPreview(deps: RuntimeDeps, running: RunningStack, color: Color, version: string, previewUrl: string): Promise<void> {
  let last = '';
  for (let attempt = 1; attempt <= PREVIEW_CHECKS; attempt += 1) {
    const view = healthView(
      await checkHealth(deps.http, { host: running.router.host, port: running.router.port }, `${running.previewPathPrefix}health`),
    );
    if (view.ok && view.color === color && view.version === version) return;
    last = view.error ?? `${view.httpStatus} from ${view.color ?? 'nobody'} ${view.version ?? ''}`.trim();
    await deps.clock.sleep(PREVIEW_RETRY_MS);
  }
  throw new DeployError('PREVIEW_UNREACHABLE', `${previewUrl}health answered ${last}, expected ${color} ${version}.`);
}
