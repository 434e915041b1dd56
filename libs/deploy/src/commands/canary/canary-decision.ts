import type { Verdict } from '../../gates/analysis/analysis';

/**
 * The canary's steps as a pure state machine: the driver (`canary.ts`) sets a step's weight, waits
 * an interval, analyses it, and asks {@link decide} what comes next.
 */

/** What the analysis limits of a run are, besides the thresholds of one interval. */
export interface CanaryLimits {
  /** Consecutive failed intervals that roll back. */
  readonly failureLimit: number;
  /** Consecutive intervals with too little traffic before the canary is rolled back as unjudgeable. */
  readonly maxInconclusive: number;
}

/** Where a run is: the index into its steps, and the streaks that decide a rollback. */
export interface CanaryPosition {
  readonly step: number;
  readonly failedInARow: number;
  readonly inconclusiveInARow: number;
}

export type CanaryDecision =
  /** Stay at this weight for another interval (too little traffic, or a failure under the limit). */
  | { readonly kind: 'hold'; readonly why: string }
  /** The interval passed: go to the next step's weight (below 100). */
  | { readonly kind: 'advance'; readonly weight: number }
  /** The interval passed and the next step is 100: all traffic to the canary. */
  | { readonly kind: 'promote' }
  | { readonly kind: 'rollback'; readonly why: string };

/**
 * The steps of a run: a fresh start takes them as given; a resumed one first holds the weight it
 * was interrupted at (it was never analysed there), then goes on with the steps above it. Pure.
 */
export function stepsFrom(steps: readonly number[], resumedAt?: number): number[] {
  if (resumedAt === undefined) return [...steps];
  return [resumedAt, ...steps.filter((step) => step > resumedAt)];
}

/** The first position of a run. */
export const START: CanaryPosition = { step: 0, failedInARow: 0, inconclusiveInARow: 0 };

/** What follows an interval's verdict at `position` of `steps`. Pure. */
export function decide(
  steps: readonly number[],
  position: CanaryPosition,
  verdict: Verdict,
  limits: CanaryLimits,
): { decision: CanaryDecision; position: CanaryPosition } {
  switch (verdict) {
    case 'pass': {
      const next = steps[position.step + 1];
      const moved = { step: position.step + 1, failedInARow: 0, inconclusiveInARow: 0 };
      if (next === undefined || next >= 100) return { decision: { kind: 'promote' }, position: moved };
      return { decision: { kind: 'advance', weight: next }, position: moved };
    }
    case 'fail': {
      const failedInARow = position.failedInARow + 1;
      const next = { ...position, failedInARow, inconclusiveInARow: 0 };
      if (failedInARow >= limits.failureLimit)
        return {
          decision: {
            kind: 'rollback',
            why: `the analysis failed ${failedInARow} interval(s) in a row (the failure limit is ${limits.failureLimit})`,
          },
          position: next,
        };
      return {
        decision: { kind: 'hold', why: `failed interval ${failedInARow} of ${limits.failureLimit} allowed in a row` },
        position: next,
      };
    }
    case 'inconclusive': {
      const inconclusiveInARow = position.inconclusiveInARow + 1;
      const next = { ...position, inconclusiveInARow };
      if (inconclusiveInARow >= limits.maxInconclusive) {
        return {
          decision: {
            kind: 'rollback',
            why: `${inconclusiveInARow} interval(s) in a row had too little traffic to judge the canary (the limit is ${limits.maxInconclusive}); too little traffic is never a pass`,
          },
          position: next,
        };
      }
      return {
        decision: {
          kind: 'hold',
          why: `too little traffic to judge (interval ${inconclusiveInARow} of ${limits.maxInconclusive} allowed in a row); holding the weight`,
        },
        position: next,
      };
    }
    default: {
      const unreachable: never = verdict;
      return unreachable;
    }
  }
}
