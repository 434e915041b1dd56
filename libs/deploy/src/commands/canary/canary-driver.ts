import type { CanaryAccess } from '../../backends/backend';
import { DEFAULT_SWITCH_TIMING, type GateFacts, runPreflight } from '../../gates';
import type { CanaryOutcome, HistoryInput } from '../../history/history';
import { type Routes, describeWeights, routesWithLive } from '../../routing/routes';
import { type CommandContext, historyStamp, reasonOf } from '../context';
import { settleRouteMove } from '../switch/route-settle';
import { verifyRoute } from '../switch/verify-route';
import type { CanaryResult, CanarySettings, CanarySignals } from './canary';
import { describeInterval, intervalWatcher, warmUp } from './canary-interval';
import {
  type CanaryCourse,
  type CanaryEnd,
  type CanaryEvent,
  type CanaryPhase,
  type CanaryTrack,
  START,
  canaryRoutes,
  canaryWeights,
  courseSteps,
  nextPhase,
  routesBefore,
} from './canary-phase';

/** A run as the driver needs it: the course, with how long an interval lasts and the version the canary must answer with. */
export interface CanaryRunOptions extends CanaryCourse {
  readonly intervalMs: number;
  /** The version the canary color must answer with (--expect-version; the dashboard's confirmed version). */
  readonly expectVersion?: string;
  /** --expect-output-change: the judge shows the answers' checks without counting them; the history records it. */
  readonly expectOutputChange?: boolean;
}

/**
 * The canary proper (the caller holds the lock): drives the phases of `canary-phase.ts` to their
 * end by performing each one's effect (gates, route moves, intervals watched through nginx, the
 * progress file), then writes the end to the history.
 */
export async function runCanary(
  context: CommandContext,
  canaryAccess: CanaryAccess,
  settings: CanarySettings,
  signals: CanarySignals,
  run: CanaryRunOptions,
): Promise<CanaryResult> {
  const { backend, progress, clock } = context;
  const { stable, canary } = run;
  const started = clock.now();
  const steps = courseSteps(run);
  const watch = intervalWatcher(context, canaryAccess, settings, signals, run);

  let phase: CanaryPhase = START;
  while (phase.kind !== 'done') phase = nextPhase(run, phase, await perform(phase));
  return finish(phase.end);

  async function perform(current: Exclude<CanaryPhase, { kind: 'done' }>): Promise<CanaryEvent> {
    switch (current.kind) {
      case 'preflight':
        return preflight();
      case 'warm-up':
        if (settings.probes) await warmUp(context, canaryAccess, canary, settings.probes);
        return signals.stopRequested() ? { kind: 'stop-requested' } : { kind: 'warmed-up' };
      case 'move':
        try {
          const moveStarted = clock.now();
          await backend.setRoutes(canaryRoutes(canary, current.target));
          progress(
            `step ${current.step + 1} of ${steps.length}: ${canary} at ${current.target}% (live ${describeWeights(canaryWeights(canary, current.target))}), moved in ${Math.round(clock.now() - moveStarted)} ms`,
          );
          return { kind: 'moved', at: clock.now() };
        } catch (error) {
          return { kind: 'move-failed', reason: reasonOf(error) };
        }
      case 'observe': {
        if (current.held) progress(`holding ${canary} at ${current.weight}%: ${current.held}`);
        context.canaryRun?.write({
          pid: process.pid,
          stable,
          canary,
          steps,
          weight: current.weight,
          step: current.step + 1,
          intervalMs: run.intervalMs,
          analysisAt: new Date(clock.now() + run.intervalMs).toISOString(),
          lastAnalysis: current.intervals.at(-1) ?? null,
        });
        progress(`analysing ${canary} at ${current.weight}% for ${run.intervalMs / 1000} s...`);
        const watched = await watch(current.weight);
        if (watched.kind === 'analysed') progress(describeInterval(watched.interval));
        return watched;
      }
      case 'promote': {
        progress(`promoting ${canary} (${current.why}): all live traffic to ${canary}`);
        const movedAt = clock.now();
        try {
          await backend.setRoutes(routesWithLive(canary));
          return { kind: 'moved', at: movedAt };
        } catch (error) {
          return { kind: 'move-failed', reason: reasonOf(error) };
        }
      }
      case 'verify': {
        const gate = await verifyRoute(context, 'live', canary, current.canaryVersion);
        if (!gate.ok) return { kind: 'verify-failed', gate };
        await settleRouteMove(context, current.movedAt);
        return { kind: 'verified', gate };
      }
      case 'back-to-stable': {
        progress(`moving all live traffic back to ${stable} (${current.reason})`);
        try {
          await backend.setRoutes(routesWithLive(stable));
        } catch (error) {
          return { kind: 'move-failed', reason: reasonOf(error) };
        }
        const movedAt = clock.now();
        await settleRouteMove(context, movedAt);
        return { kind: 'moved', at: movedAt };
      }
      default: {
        const unreachable: never = current;
        return unreachable;
      }
    }
  }

  /** The same gates as a switch; when they pass, the history says the canary started (so an interrupted one is known). */
  async function preflight(): Promise<CanaryEvent> {
    progress(`preflight: checking ${canary} before it takes a share of ${stable}'s traffic`);
    const facts: GateFacts = {};
    // No gate configured would be a canary nobody checked: that is a refusal, never a pass.
    const gates =
      context.preflight.length === 0
        ? undefined
        : await runPreflight(
            context.preflight,
            {
              from: stable,
              to: canary,
              colors: backend.colors,
              clock,
              timing: context.timing ?? DEFAULT_SWITCH_TIMING,
              facts,
              ...(run.expectVersion ? { expectedVersion: { version: run.expectVersion, why: 'required by --expect-version' } } : {}),
            },
            context.replicaQuorum,
          );
    const versions = {
      stableVersion: facts.live?.version ?? backend.colors.recorded(stable)?.version ?? null,
      canaryVersion: facts.target?.version ?? backend.colors.recorded(canary)?.version ?? null,
      gates: gates?.results ?? [],
    };
    if (!gates) return { kind: 'preflight-failed', reason: 'no preflight gate is configured', ...versions };
    if (gates.failure) return { kind: 'preflight-failed', reason: gates.failure.observed, ...versions };
    await context.history.append(
      historyLine('started', { ...versions, weight: run.resumedAt ?? 0, routes: routesBefore(run), intervals: [] }),
    );
    return { kind: 'preflight-passed', ...versions };
  }

  async function finish(end: CanaryEnd): Promise<CanaryResult> {
    if (end.outcome === 'kept')
      progress(`stopped with --keep: ${canary} keeps ${end.weight}%; continue with \`npx nx run deploy:canary --resume\` or \`--abort\``);
    context.canaryRun?.remove();
    await context.history.append(historyLine(end.outcome, { ...end, reason: end.recordedReason ?? end.reason }));
    return {
      kind: end.outcome,
      stable,
      canary,
      stableVersion: end.stableVersion,
      canaryVersion: end.canaryVersion,
      weight: end.weight,
      routes: end.routes,
      intervals: [...end.intervals],
      gates: [...end.gates],
      ...(end.reason ? { reason: end.reason } : {}),
    };
  }

  function historyLine(
    outcome: CanaryOutcome,
    at: Pick<CanaryTrack, 'stableVersion' | 'canaryVersion' | 'weight' | 'gates' | 'intervals'> & { routes: Routes; reason?: string },
  ): HistoryInput {
    return {
      ...historyStamp(context, started),
      command: 'canary',
      outcome,
      stable,
      canary,
      stableVersion: at.stableVersion,
      canaryVersion: at.canaryVersion,
      steps: [...run.steps],
      intervalMs: run.intervalMs,
      weight: at.weight,
      resumed: run.resumedAt !== undefined,
      ...(run.expectOutputChange ? { expectOutputChange: true } : {}),
      intervals: [...at.intervals],
      routes: at.routes,
      gates: [...at.gates],
      ...(at.reason ? { reason: at.reason } : {}),
    };
  }
}
