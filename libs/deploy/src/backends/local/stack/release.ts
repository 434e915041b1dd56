import { type Color, describeSignatureDifferences, otherColor } from '@mlbg/contract';
import type { RuntimeDeps } from '../../../effects/deps';
import { DeployError } from '../../../errors';
import { type StackLayout, httpUrl } from '../layout';
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
import { INITIAL_LIVE_COLOR } from '../../../spec/sockets';
import type { ReleaseRequest, ReleaseResult } from '../../backend';
import {
  type ColorFacts,
  type ColorLaunch,
  DEFAULT_START_TIMEOUT_MS,
  type ModelFile,
  type Started,
  colorRun,
  logTail,
  probeColor,
  resolveModel,
  waitUntilReady,
} from '../services/color-service';
import { type RunningStack, type StackState, writeState } from './state';

const PREVIEW_CHECKS = 3;
const PREVIEW_RETRY_MS = 200;

/**
 * `deploy:release`: restarts the idle color on a new model, waits until it is healthy, records it,
 * and checks that the preview route reaches it. Never touches the live color. If the new model
 * does not start, the color is started again on its previous model.
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
  {
    const state = requireRunningStack(deps, layout);
    const { running } = state;
    if (!soleTarget(state.routes.live))
      throw new DeployError(
        'CANARY_IN_PROGRESS',
        `The live route is ${describeWeights(state.routes.live)}; releasing to either color would change a color that takes live traffic.`,
      );
    const live = readLink(layout.liveSocket) ?? soleTarget(state.routes.live) ?? INITIAL_LIVE_COLOR;
    const idle = otherColor(live);
    if (request.color === live) {
      throw new DeployError(
        'LIVE_COLOR_RELEASE',
        `${live} is live (${running.colors[live].version ?? 'version unknown'}); the idle color is ${idle}.`,
      );
    }
    const color = request.color ?? idle;
    const previous = running.colors[color];
    const launch: ColorLaunch = { color, model, port: previous.port, service: running.service };

    deps.progress(`Releasing ${model.display} to ${color} (idle; ${live} stays live): the supervisor replaces ${color}...`);
    const started = await superviseColor(deps, layout, launch);
    deps.progress(`Started ${color} (pid ${started.pid}) on ${model.display}; waiting until it is healthy...`);
    const ready = await waitUntilReady(
      deps,
      [{ started, probe: () => probeColor(deps, layout, color, launch.port) }],
      request.timeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    );
    if (!ready.ok) {
      const why = `${ready.reason}.\nLast lines of ${started.logFile}:\n${logTail(started.logFile, started.logOffset)}`;
      const restored = await restore(deps, layout, state, { ...launch, model: resolvePrevious(layout, previous.model) }, request.timeoutMs);
      throw new DeployError('RELEASE_FAILED', `${why}\n${restored}`);
    }
    await awaitSupervisorReady(deps, layout, [started]);
    const facts = ready.facts.get(color) as ColorFacts;
    const startedAt = new Date(deps.clock.now()).toISOString();
    const next: StackState = {
      ...state,
      models: { ...state.models, [color]: model.display },
      running: { ...running, colors: { ...running.colors, [color]: colorRun(launch, facts, startedAt) } },
    };
    writeState(layout.stateFile, next);

    const previewUrl = `${httpUrl(running.router.host, running.router.port)}${running.previewPathPrefix}`;
    await checkPreview(deps, running, color, facts.version, previewUrl);

    const liveRun = running.colors[live];
    const notes: string[] = [];
    const differences = liveRun.signature && facts.signature ? describeSignatureDifferences(liveRun.signature, facts.signature) : [];
    if (differences.length > 0) {
      notes.push(
        `Its signature differs from live ${live}'s (${differences.join('; ')}), so deploy:switch will refuse to send live traffic to it.`,
      );
    } else if (!facts.signature && liveRun.featureCount !== undefined && liveRun.featureCount !== facts.featureCount) {
      notes.push(
        `Its input signature differs from live ${live}'s: ${facts.featureCount} feature(s) per row instead of ${liveRun.featureCount}, so deploy:switch will refuse to send live traffic to it.`,
      );
    }
    return {
      color,
      model: model.display,
      previousModel: previous.model,
      previous: { model: previous.model, image: null },
      pid: started.pid,
      version: facts.version,
      featureCount: facts.featureCount,
      modelSha256: facts.modelSha256,
      previewUrl,
      live: { color: live, version: liveRun.version ?? null, featureCount: liveRun.featureCount ?? null },
      notes,
      durationMs: deps.clock.now() - begin,
    };
  }
}

/**
 * Asks the supervisor to run `launch` in place of what the color runs now (it stops the old
 * process and starts the new one, so it never fights the release) and waits for the new pid.
 * Each release is a new config, even of the same model: a release always restarts the color.
 */
async function superviseColor(deps: RuntimeDeps, layout: StackLayout, launch: ColorLaunch): Promise<Started> {
  const plan = currentPlan(layout);
  const process = colorProcess(deps, layout, launch);
  const next = { ...process, config: `${process.config} release ${new Date(deps.clock.now()).toISOString()}` };
  const old = readPidFile(layout.pidFile(launch.color));
  const offsets = logOffsets(layout, [launch.color]);
  const since = deps.clock.now();
  updatePlan(deps, layout, withProcess(plan, next));
  const [started] = await awaitSupervised(
    deps,
    layout,
    [{ name: launch.color, config: next.config, ...(old.kind === 'ok' ? { not: old.pid } : {}) }],
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

/** Starts the color again on its previous model after a failed release; says how that went. */
async function restore(
  deps: RuntimeDeps,
  layout: StackLayout,
  state: StackState & { running: RunningStack },
  launch: ColorLaunch,
  timeoutMs: number | undefined,
): Promise<string> {
  deps.progress(`The new model did not start; starting ${launch.color} again on its previous model ${launch.model.display}...`);
  let started: Started;
  try {
    started = await superviseColor(deps, layout, launch);
  } catch (error) {
    return `${launch.color} could not be started again on ${launch.model.display}: ${(error as Error).message}. The preview route answers 503 until it runs.`;
  }
  const ready = await waitUntilReady(
    deps,
    [{ started, probe: () => probeColor(deps, layout, launch.color, launch.port) }],
    timeoutMs ?? DEFAULT_START_TIMEOUT_MS,
  );
  if (!ready.ok) {
    return `${launch.color} did not come back on its previous model ${launch.model.display} either (${ready.reason}); the supervisor keeps trying (see deploy:status), and the preview route answers 503 meanwhile.`;
  }
  const facts = ready.facts.get(launch.color) as ColorFacts;
  const startedAt = new Date(deps.clock.now()).toISOString();
  writeState(layout.stateFile, {
    ...state,
    running: { ...state.running, colors: { ...state.running.colors, [launch.color]: colorRun(launch, facts, startedAt) } },
  });
  return `${launch.color} runs its previous model ${launch.model.display} (${facts.version}) again, pid ${started.pid}.`;
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
