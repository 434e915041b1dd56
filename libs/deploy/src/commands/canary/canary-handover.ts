import type { Color } from '@mlbg/contract';
import { DeployError } from '../../errors';
import { type CanaryEntry, lastCanary } from '../../history/history';
import { type Routes, describeWeights, mainTarget, routesWithLive } from '../../routing/routes';
import { type CommandContext, historyStamp } from '../context';
import { settleRouteMove } from '../switch/route-settle';
import { verifyRoute } from '../switch/verify-route';
import type { CanaryResult } from './canary';
import { canaryRoutes, splitOf } from './canary-phase';

/** How long --abort and promote wait for a running canary to let go of the lock. */
const HANDOVER_WAIT_MS = 60_000;
/** After a kill -9 the lock is taken over once stale (10 s, effects/lock.ts): --resume, --abort and promote wait that long. */
export const STALE_LOCK_WAIT_MS = 12_000;

/** `deploy:canary --abort`: a running canary is asked to move the weight back; an interrupted one is moved back here. */
export function abortCanary(context: CommandContext): Promise<CanaryResult> {
  return handOver(context, 'abort', 'SIGTERM', () => abortInterrupted(context));
}

/** `deploy:promote`: a running canary is asked to promote now; an interrupted one is promoted here. */
export function promoteCanary(context: CommandContext): Promise<CanaryResult> {
  return handOver(context, 'promote', 'SIGUSR2', () => promoteInterrupted(context));
}

/**
 * Abort and promote: a canary running in another process is asked by `signal` (it then moves the
 * weight itself), and this command waits for the lock; whatever is left (an interrupted canary)
 * is finished under the lock by `finish`.
 */
async function handOver(
  context: CommandContext,
  command: 'abort' | 'promote',
  signal: NodeJS.Signals,
  finish: () => Promise<CanaryResult>,
): Promise<CanaryResult> {
  const holder = context.lock.holder?.();
  let asked: number | undefined;
  if (holder && holder.command.startsWith('canary')) {
    context.progress(
      `asking the running canary (pid ${holder.pid}, \`${holder.command}\`) to ${command === 'abort' ? 'stop and move the weight back' : 'promote now'}...`,
    );
    if (holder.signal(signal)) asked = holder.pid;
  }
  return context.lock.hold(
    {
      command: command === 'abort' ? 'canary --abort' : 'promote',
      user: context.userName,
      waitMs: asked ? HANDOVER_WAIT_MS : STALE_LOCK_WAIT_MS,
    },
    async () => {
      const routes = await context.backend.readRoutes();
      if (asked !== undefined && !splitOf(routes)) {
        const live = mainTarget(routes.live);
        return {
          kind: 'noop',
          note: `the running canary (pid ${asked}) ${command === 'abort' ? 'stopped' : 'finished'}: live is ${describeWeights(routes.live)} (${live}); its history line says how it ended.`,
        };
      }
      return finish();
    },
  );
}

/** --abort of an interrupted canary (the caller holds the lock): everything back on the stable color. */
async function abortInterrupted(context: CommandContext): Promise<CanaryResult> {
  const split = await interrupted(context);
  const result = await finishInterrupted(context, split, 'aborted', async () => {
    await context.backend.setRoutes(routesWithLive(split.stable));
    await settleRouteMove(context, context.clock.now());
    return routesWithLive(split.stable);
  });
  return result;
}

/** deploy:promote of an interrupted canary (the caller holds the lock): everything on the canary, verified through nginx. */
async function promoteInterrupted(context: CommandContext): Promise<CanaryResult> {
  const split = await interrupted(context);
  return finishInterrupted(context, split, 'promoted', async () => {
    const movedAt = context.clock.now();
    await context.backend.setRoutes(routesWithLive(split.canary));
    const verified = await verifyRoute(
      context,
      'live',
      split.canary,
      split.last?.canaryVersion ?? context.backend.colors.recorded(split.canary)?.version ?? null,
    );
    if (!verified.ok) {
      await context.backend.setRoutes(canaryRoutes(split.canary, split.weight));
      throw new DeployError('VERIFY_FAILED', `${verified.observed}; the canary's weight was put back to ${split.weight}%.`);
    }
    await settleRouteMove(context, movedAt);
    return routesWithLive(split.canary);
  });
}

async function interrupted(context: CommandContext): Promise<{ stable: Color; canary: Color; weight: number; last?: CanaryEntry }> {
  const routes = await context.backend.readRoutes();
  const split = splitOf(routes);
  if (!split) throw new DeployError('CANARY_NOT_RUNNING', `The live route is ${describeWeights(routes.live)}.`);
  const last = lastCanary((await context.history.read()).entries, context.backend.kind)?.started;
  return { ...split, ...(last && last.canary === split.canary ? { last } : {}) };
}

async function finishInterrupted(
  context: CommandContext,
  split: { stable: Color; canary: Color; weight: number; last?: CanaryEntry },
  outcome: 'aborted' | 'promoted',
  move: () => Promise<Routes>,
): Promise<CanaryResult> {
  const started = context.clock.now();
  context.progress(`${outcome === 'aborted' ? 'aborting' : 'promoting'} the canary of ${split.canary} (at ${split.weight}%)`);
  const routes = await move();
  const stableVersion = split.last?.stableVersion ?? context.backend.colors.recorded(split.stable)?.version ?? null;
  const canaryVersion = split.last?.canaryVersion ?? context.backend.colors.recorded(split.canary)?.version ?? null;
  const weight = outcome === 'aborted' ? 0 : 100;
  context.canaryRun?.remove();
  await context.history.append({
    ...historyStamp(context, started),
    command: 'canary',
    outcome,
    stable: split.stable,
    canary: split.canary,
    stableVersion,
    canaryVersion,
    steps: split.last?.steps ?? [split.weight, 100],
    intervalMs: split.last?.intervalMs ?? 1000,
    weight,
    resumed: true,
    intervals: [],
    routes,
    gates: [],
  });
  return {
    kind: outcome,
    stable: split.stable,
    canary: split.canary,
    stableVersion,
    canaryVersion,
    weight,
    routes,
    intervals: [],
    gates: [],
  };
}
