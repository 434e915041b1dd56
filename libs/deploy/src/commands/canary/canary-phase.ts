import { type Color, otherColor } from '@mlbg/contract';
import { decidingChecks, explainCheck } from '../../gates/judge/describe';
import type { Verdict } from '../../gates/judge/verdict';
import type { GateResult } from '../../gates/gate';
import type { CanaryInterval, CanaryOutcome } from '../../history/history';
import { type Routes, type Weights, allTo, mainTarget, routesWithLive, soleTarget } from '../../routing/routes';

/**
 * A canary run as a pure state machine, as `switch-phase.ts` is for the switch. The driver
 * (`canary-driver.ts`) performs each phase's effect (a route move, an interval watched through
 * nginx, a verification) and reports what came of it as a {@link CanaryEvent}; {@link nextPhase}
 * decides what comes next. Nothing here reads a clock, a file or a signal. An interval's verdict
 * (pass, fail, inconclusive) is the judge's; what it leads to is decided here.
 */

/** What a run is started with; it does not change while the run goes on. */
export interface CanaryCourse {
  readonly stable: Color;
  readonly canary: Color;
  /** The steps as asked for (and recorded in the history); a resumed run goes through {@link stepsFrom} of them. */
  readonly steps: readonly number[];
  /** The weight an interrupted canary is resumed at; undefined for a fresh start from 0. */
  readonly resumedAt?: number;
  /** On a stop signal, leave the weight where it is (--keep) instead of moving all traffic back. */
  readonly keep: boolean;
  readonly limits: CanaryLimits;
}

/** What the analysis limits of a run are, besides the thresholds of one interval. */
export interface CanaryLimits {
  /** Consecutive failed intervals that roll back. */
  readonly failureLimit: number;
  /** Consecutive inconclusive intervals (too little data to judge) before `onInconclusive` applies. */
  readonly maxInconclusive: number;
  /**
   * At `maxInconclusive` in a row: `rollback` (absent: too little data is never a pass), or `hold`
   * the weight and keep watching until an interval is judged or a person promotes or aborts.
   */
  readonly onInconclusive?: 'rollback' | 'hold';
}

/** Where a run is and what it has gathered: the state every phase after the preflight carries. */
export interface CanaryTrack {
  /** The canary's share of live traffic now. */
  readonly weight: number;
  /** Index into {@link courseSteps}: the step being held or moved to. */
  readonly step: number;
  readonly failedInARow: number;
  readonly inconclusiveInARow: number;
  readonly stableVersion: string | null;
  readonly canaryVersion: string | null;
  /** The preflight's gates, then the promotion's verification. */
  readonly gates: readonly GateResult[];
  /** Every interval analysed, in order. */
  readonly intervals: readonly CanaryInterval[];
}

/**
 * Where a canary is. The live route moves only in `move`, `promote` and `back-to-stable`, so a run
 * that ends in `preflight` or `warm-up` changed nothing.
 */
export type CanaryPhase =
  /** The same gates as a switch's, on the canary color. */
  | { readonly kind: 'preflight' }
  /** A fresh start: requests straight to the canary color before it takes live traffic. */
  | ({ readonly kind: 'warm-up' } & CanaryTrack)
  /** The live route to the next step's weight. */
  | ({ readonly kind: 'move'; readonly target: number } & CanaryTrack)
  /** One interval watched and analysed at the weight; `held` says why the weight is held (the previous interval did not pass). */
  | ({ readonly kind: 'observe'; readonly held?: string } & CanaryTrack)
  /** All live traffic to the canary. */
  | ({ readonly kind: 'promote'; readonly why: string } & CanaryTrack)
  /** nginx serves the canary after the promotion (moved at `movedAt`, clock ms). */
  | ({ readonly kind: 'verify'; readonly movedAt: number } & CanaryTrack)
  /** All live traffic back on the stable color, in one move. */
  | ({ readonly kind: 'back-to-stable'; readonly outcome: 'rolled-back' | 'stopped'; readonly reason: string } & CanaryTrack)
  | { readonly kind: 'done'; readonly end: CanaryEnd };

/** What performing a phase's effect produced. */
export type CanaryEvent =
  | ({ readonly kind: 'preflight-passed' } & Versions)
  | ({ readonly kind: 'preflight-failed'; readonly reason: string } & Versions)
  | { readonly kind: 'warmed-up' }
  /** A stop signal (SIGINT, SIGTERM, `--abort` from another process): seen in the warm-up or an interval. */
  | { readonly kind: 'stop-requested' }
  /** `deploy:promote` from another process, seen in an interval. */
  | { readonly kind: 'promote-requested' }
  /** The route moved (a step, the promotion, or back to stable) at `at` (clock ms). */
  | { readonly kind: 'moved'; readonly at: number }
  | { readonly kind: 'move-failed'; readonly reason: string }
  | { readonly kind: 'analysed'; readonly interval: CanaryInterval }
  | { readonly kind: 'verified'; readonly gate: GateResult }
  | { readonly kind: 'verify-failed'; readonly gate: GateResult };

interface Versions {
  readonly stableVersion: string | null;
  readonly canaryVersion: string | null;
  readonly gates: readonly GateResult[];
}

/** How a run ended; the driver writes it to the history and returns it as the command's result. */
export interface CanaryEnd {
  readonly outcome: Exclude<CanaryOutcome, 'started' | 'aborted'>;
  readonly weight: number;
  readonly routes: Routes;
  readonly stableVersion: string | null;
  readonly canaryVersion: string | null;
  readonly gates: readonly GateResult[];
  readonly intervals: readonly CanaryInterval[];
  readonly reason?: string;
  /** The history's wording, where it differs from the result's `reason`. */
  readonly recordedReason?: string;
}

/** The first phase of a run. */
export const START: CanaryPhase = { kind: 'preflight' };

/**
 * The steps of a run: a fresh start takes them as given; a resumed one first holds the weight it
 * was interrupted at (it was never analysed there), then goes on with the steps above it.
 */
export function stepsFrom(steps: readonly number[], resumedAt?: number): number[] {
  if (resumedAt === undefined) return [...steps];
  return [resumedAt, ...steps.filter((step) => step > resumedAt)];
}

/** The weights a run moves through: {@link stepsFrom} its steps. */
export function courseSteps(course: CanaryCourse): number[] {
  return stepsFrom(course.steps, course.resumedAt);
}

/** The live weights with `weight` percent on `canary`. */
export function canaryWeights(canary: Color, weight: number): Weights {
  return canary === 'green' ? { blue: 100 - weight, green: weight } : { blue: weight, green: 100 - weight };
}

/** The routes during a canary: live split by weight, preview on the canary color. */
export function canaryRoutes(canary: Color, weight: number): Routes {
  return { live: canaryWeights(canary, weight), preview: allTo(canary) };
}

/** The routes before the run moved anything: all on the stable color, or the split it was resumed at. */
export function routesBefore(course: CanaryCourse): Routes {
  return course.resumedAt === undefined ? routesWithLive(course.stable) : canaryRoutes(course.canary, course.resumedAt);
}

/** The colors of a split live route (a canary in progress): the larger share is the stable one; undefined when not split. */
export function splitOf(routes: Routes): { stable: Color; canary: Color; weight: number } | undefined {
  if (soleTarget(routes.live)) return undefined;
  const stable = mainTarget(routes.live);
  const canary = otherColor(stable);
  return { stable, canary, weight: routes.live[canary] };
}

/** The canary's transition function. Pure; an event that can not happen in a phase is a bug in the driver and throws. */
export function nextPhase(course: CanaryCourse, phase: CanaryPhase, event: CanaryEvent): CanaryPhase {
  switch (phase.kind) {
    case 'preflight': {
      if (event.kind !== 'preflight-passed' && event.kind !== 'preflight-failed') break;
      const { stableVersion, canaryVersion, gates } = event;
      const track: CanaryTrack = {
        weight: course.resumedAt ?? 0,
        step: 0,
        failedInARow: 0,
        inconclusiveInARow: 0,
        stableVersion,
        canaryVersion,
        gates,
        intervals: [],
      };
      if (event.kind === 'preflight-failed') return done(track, 'refused', routesBefore(course), event.reason);
      // A resumed canary has taken traffic already: no warm-up.
      return course.resumedAt === undefined ? { ...track, kind: 'warm-up' } : stepAt(course, track);
    }
    case 'warm-up': {
      const { kind: _, ...track } = phase;
      if (event.kind === 'warmed-up') return stepAt(course, track);
      // Nothing moved yet: nothing to move back.
      if (event.kind === 'stop-requested') return done(track, 'stopped', routesBefore(course), 'stopped by a signal before the first step');
      break;
    }
    case 'move': {
      const { kind: _, target, ...track } = phase;
      if (event.kind === 'moved') return { ...track, kind: 'observe', weight: target };
      if (event.kind === 'move-failed')
        return backToStable(track, 'rolled-back', `moving ${course.canary} to ${target}% failed: ${event.reason}`);
      break;
    }
    case 'observe': {
      const { kind: _, held: __, ...track } = phase;
      if (event.kind === 'stop-requested') {
        if (!course.keep) return backToStable(track, 'stopped', `stopped by a signal at ${track.weight}%`);
        const recorded = 'stopped by a signal; --keep left the weight as it was';
        return done(track, 'kept', canaryRoutes(course.canary, track.weight), 'stopped by a signal (--keep)', recorded);
      }
      if (event.kind === 'promote-requested') return { ...track, kind: 'promote', why: 'asked by deploy:promote' };
      if (event.kind === 'analysed')
        return afterInterval(course, { ...track, intervals: [...track.intervals, event.interval] }, event.interval);
      break;
    }
    case 'promote': {
      const { kind: _, why: __, ...track } = phase;
      if (event.kind === 'moved') return { ...track, kind: 'verify', weight: 100, movedAt: event.at };
      if (event.kind === 'move-failed') return backToStable(track, 'rolled-back', `the promotion failed: ${event.reason}`);
      break;
    }
    case 'verify': {
      const { kind: _, movedAt: __, ...track } = phase;
      if (event.kind === 'verified')
        return done({ ...track, gates: [...track.gates, event.gate] }, 'promoted', routesWithLive(course.canary));
      if (event.kind === 'verify-failed')
        return backToStable({ ...track, gates: [...track.gates, event.gate] }, 'rolled-back', `after the promotion ${event.gate.observed}`);
      break;
    }
    case 'back-to-stable': {
      const { kind: _, outcome, reason, ...track } = phase;
      if (event.kind === 'moved') return done({ ...track, weight: 0 }, outcome, routesWithLive(course.stable), reason);
      if (event.kind === 'move-failed')
        return done(
          track,
          'broken',
          canaryRoutes(course.canary, track.weight),
          `${reason}; moving the traffic back to ${course.stable} failed: ${event.reason}`,
        );
      break;
    }
    case 'done':
      break;
    default: {
      const unreachable: never = phase;
      return unreachable;
    }
  }
  throw new Error(`canary: event "${event.kind}" can not happen in phase "${phase.kind}"`);
}

/** The phase for the track's step: move to its weight, watch it (already there), or promote (100). */
function stepAt(course: CanaryCourse, track: CanaryTrack): CanaryPhase {
  const target = courseSteps(course)[track.step] ?? 100;
  if (target >= 100) return { ...track, kind: 'promote', why: 'the last step is 100%' };
  if (target !== track.weight) return { ...track, kind: 'move', target };
  return { ...track, kind: 'observe' };
}

/** What follows an analysed interval: the next step, the weight held, or a rollback. */
function afterInterval(course: CanaryCourse, track: CanaryTrack, interval: CanaryInterval): CanaryPhase {
  const { failureLimit, maxInconclusive } = course.limits;
  const verdict: Verdict = interval.verdict;
  switch (verdict) {
    case 'pass': {
      const next = { ...track, step: track.step + 1, failedInARow: 0, inconclusiveInARow: 0 };
      const weight = courseSteps(course)[next.step];
      if (weight === undefined || weight >= 100) return { ...next, kind: 'promote', why: 'every step passed its analysis' };
      return { ...next, kind: 'move', target: weight };
    }
    case 'fail': {
      const failedInARow = track.failedInARow + 1;
      const next = { ...track, failedInARow, inconclusiveInARow: 0 };
      if (failedInARow >= failureLimit)
        return rollBack(next, interval, `the analysis failed ${failedInARow} interval(s) in a row (the failure limit is ${failureLimit})`);
      return { ...next, kind: 'observe', held: `failed interval ${failedInARow} of ${failureLimit} allowed in a row` };
    }
    case 'inconclusive': {
      const inconclusiveInARow = track.inconclusiveInARow + 1;
      const next = { ...track, inconclusiveInARow };
      if (inconclusiveInARow < maxInconclusive)
        return {
          ...next,
          kind: 'observe',
          held: `too little traffic to judge (interval ${inconclusiveInARow} of ${maxInconclusive} allowed in a row); holding the weight`,
        };
      const why = `${inconclusiveInARow} interval(s) in a row had too little traffic to judge the canary (the limit is ${maxInconclusive})`;
      if (course.limits.onInconclusive === 'hold')
        return {
          ...next,
          kind: 'observe',
          held: `${why}; onInconclusive is "hold": holding the weight until an interval is judged (promote or abort it by hand meanwhile)`,
        };
      return rollBack(next, interval, `${why}; too little traffic is never a pass`);
    }
    default: {
      const unreachable: never = verdict;
      return unreachable;
    }
  }
}

/**
 * A rollback decided by the analysis: the reason names each check that decided it (the failed
 * ones, or the inconclusive ones), with what it saw and its numbers (statistic, p-value, effect, samples).
 */
function rollBack(track: CanaryTrack, interval: CanaryInterval, why: string): CanaryPhase {
  const named = interval.judgement
    ? decidingChecks(interval.judgement).map(explainCheck)
    : interval.checks.filter((check) => !check.ok).map((check) => `${check.name}: ${check.observed} (expected ${check.expected})`);
  return backToStable(track, 'rolled-back', `${why}: ${named.join('; ')}`);
}

function backToStable(track: CanaryTrack, outcome: 'rolled-back' | 'stopped', reason: string): CanaryPhase {
  return { ...track, kind: 'back-to-stable', outcome, reason };
}

function done(track: CanaryTrack, outcome: CanaryEnd['outcome'], routes: Routes, reason?: string, recordedReason?: string): CanaryPhase {
  const { weight, stableVersion, canaryVersion, gates, intervals } = track;
  return {
    kind: 'done',
    end: {
      outcome,
      weight,
      routes,
      stableVersion,
      canaryVersion,
      gates,
      intervals,
      ...(reason ? { reason } : {}),
      ...(recordedReason ? { recordedReason } : {}),
    },
  };
}
