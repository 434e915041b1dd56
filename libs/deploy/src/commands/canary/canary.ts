import { type CanaryResult, type Color, otherColor } from '@mlbg/contract';
import type { Backend, CanaryAccess } from '../../backends/backend';
import { DeployError, type DeployErrorCode } from '../../errors';
import { lastCanary } from '../../history/history';
import { describeWeights, mainTarget } from '../../routing/routes';
import type { CanarySpec } from '../../spec/canary-spec';
import type { DeploymentSpec } from '../../spec/deployment-spec';
import type { CommandContext } from '../context';
import { runCanary } from './canary-driver';
import { STALE_LOCK_WAIT_MS, abortCanary, promoteCanary } from './canary-handover';
import { splitOf } from './canary-phase';

/** The canary's settings: the spec's `canary` section with the flags applied, and the probe bodies. */
export interface CanarySettings {
  readonly spec: CanarySpec;
  /** JSON bodies for POST /predict probes; undefined when the spec names no sample file. */
  readonly probes?: readonly string[];
  /** The paired answers' criteria (tolerance, minimum agreement and pairs): the spec's predictionDiff; its defaults when absent. */
  readonly predictionDiff?: DeploymentSpec['predictionDiff'];
  /** Bodies replayed to both colors when an interval has too few answers to judge (--replay); else the probe samples. */
  readonly replay?: readonly string[];
}

/** Asked of a running canary from outside (the CLI wires SIGINT/SIGTERM and SIGUSR2 to these). */
export interface CanarySignals {
  stopRequested(): boolean;
  promoteRequested(): boolean;
}

export type CanaryRequest =
  | {
      readonly kind: 'start';
      readonly color?: Color;
      readonly keep: boolean;
      readonly expectVersion?: string;
      /** The answers are meant to change (--expect-output-change): the judge shows the output checks without counting them. */
      readonly expectOutputChange?: boolean;
    }
  | { readonly kind: 'resume'; readonly keep: boolean }
  | { readonly kind: 'abort' }
  | { readonly kind: 'promote' };

/** How a canary command ended (the contract's: `--json` carries it). `ok` = it did what was asked (a rollback after a failed analysis is not ok). */
export type { CanaryResult } from '@mlbg/contract';

/** The error code of a canary that did not do what was asked (noop, promoted and aborted did). */
export const FAILED_CANARY: Record<'rolled-back' | 'stopped' | 'kept' | 'refused' | 'broken', DeployErrorCode> = {
  'rolled-back': 'CANARY_FAILED',
  stopped: 'CANARY_STOPPED',
  kept: 'CANARY_STOPPED',
  refused: 'PREFLIGHT_FAILED',
  broken: 'REVERT_FAILED',
};

/** The CLI's (and the dashboard's) verdict on a canary result: ok, or the error that says why not. */
export function canaryFailure(result: CanaryResult): DeployError | undefined {
  if (result.kind === 'noop' || result.kind === 'promoted' || result.kind === 'aborted') return undefined;
  return new DeployError(FAILED_CANARY[result.kind], `${result.canary} at ${result.weight}%: ${result.reason ?? result.kind}`);
}

function access(backend: Backend): CanaryAccess {
  if (!backend.canary)
    throw new DeployError(
      'CANARY_NOT_SUPPORTED',
      `The ${backend.kind} backend can not split live traffic by weight or read what nginx served.`,
    );
  return backend.canary;
}

/**
 * `deploy:canary`, `--resume`, `--abort` and `deploy:promote`. Start and resume hold the stack's
 * lock for the whole canary (no switch or second canary can interleave); abort and promote ask a
 * running canary (by signal) and then take the lock to finish whatever is left.
 * @throws DeployError CANARY_NOT_SUPPORTED, CANARY_IN_PROGRESS, CANARY_NOT_RUNNING, LOCKED
 */
export async function canaryCommand(
  context: CommandContext,
  request: CanaryRequest,
  settings: CanarySettings,
  signals: CanarySignals,
): Promise<CanaryResult> {
  switch (request.kind) {
    case 'start':
      return context.lock.hold({ command: `canary${request.color ? ` --color=${request.color}` : ''}`, user: context.userName }, () =>
        startCanary(context, request, settings, signals),
      );
    case 'resume':
      return context.lock.hold({ command: 'canary --resume', user: context.userName, waitMs: STALE_LOCK_WAIT_MS }, () =>
        resumeCanary(context, request.keep, settings, signals),
      );
    case 'abort':
      return abortCanary(context);
    case 'promote':
      return promoteCanary(context);
    default: {
      const unreachable: never = request;
      return unreachable;
    }
  }
}

async function startCanary(
  context: CommandContext,
  request: { color?: Color; keep: boolean; expectVersion?: string; expectOutputChange?: boolean },
  settings: CanarySettings,
  signals: CanarySignals,
): Promise<CanaryResult> {
  const { backend } = context;
  const canaryAccess = access(backend);
  const routes = await backend.readRoutes();
  const split = splitOf(routes);
  if (split)
    throw new DeployError('CANARY_IN_PROGRESS', `The live route is ${describeWeights(routes.live)} (${split.canary} at ${split.weight}%).`);
  const stable = mainTarget(routes.live);
  const canary = request.color ?? otherColor(stable);
  if (canary === stable) return { kind: 'noop', note: `${canary} is live already (all of it); a canary needs the idle color.` };
  ensureSlots(settings.spec.steps, canaryAccess.slots);
  return runCanary(context, canaryAccess, settings, signals, {
    stable,
    canary,
    steps: settings.spec.steps,
    intervalMs: settings.spec.intervalSeconds * 1000,
    keep: request.keep,
    limits: settings.spec.analysis,
    ...(request.expectVersion ? { expectVersion: request.expectVersion } : {}),
    ...(request.expectOutputChange ? { expectOutputChange: true } : {}),
  });
}

async function resumeCanary(
  context: CommandContext,
  keep: boolean,
  settings: CanarySettings,
  signals: CanarySignals,
): Promise<CanaryResult> {
  const { backend } = context;
  const canaryAccess = access(backend);
  const routes = await backend.readRoutes();
  const split = splitOf(routes);
  if (!split) throw new DeployError('CANARY_NOT_RUNNING', `The live route is ${describeWeights(routes.live)}; there is nothing to resume.`);
  const last = lastCanary((await context.history.read()).entries, backend.kind)?.started;
  // The interrupted canary's own steps and interval, when the history has them; else the settings'.
  const steps = last && last.canary === split.canary ? last.steps : settings.spec.steps;
  const intervalMs = last && last.canary === split.canary ? last.intervalMs : settings.spec.intervalSeconds * 1000;
  ensureSlots(steps, canaryAccess.slots);
  context.progress(`Resuming the canary of ${split.canary} at ${split.weight}% (steps ${steps.join(', ')}, every ${intervalMs / 1000} s).`);
  return runCanary(context, canaryAccess, settings, signals, {
    stable: split.stable,
    canary: split.canary,
    steps,
    intervalMs,
    keep,
    limits: settings.spec.analysis,
    resumedAt: split.weight,
    // A declared change of the answers holds for the whole canary, resumed or not.
    ...(last && last.canary === split.canary && last.expectOutputChange ? { expectOutputChange: true } : {}),
  });
}

function ensureSlots(steps: readonly number[], slots: number): void {
  const bad = steps.find((step) => (step * slots) % 100 !== 0);
  if (bad !== undefined)
    throw new DeployError(
      'USAGE',
      `The step ${bad}% can not be made with the ${slots} live slots this stack runs with (multiples of ${100 / slots}% only).`,
    );
}
