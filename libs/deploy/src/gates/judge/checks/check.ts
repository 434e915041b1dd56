import type { JudgeLimits } from '../limits';
import type { Aspect, Effect } from '../verdict';
import type { JudgeWindow } from '../window';

/** What a check measured, before the family's adjustment decides. */
export interface Measurement {
  readonly test: string;
  readonly statistic: number | null;
  /** null: too few samples for the test's approximation, so no test was made. */
  readonly pValue: number | null;
  /** null: significance alone decides (nothing else to exceed). */
  readonly effect: Effect | null;
  readonly samples: { readonly canary: number; readonly stable: number | null; readonly minimum: number };
  /** Enough samples for a pass. Exact tests may still fail below it (their p-values hold at any size). */
  readonly enough: boolean;
  readonly observed: string;
  readonly expected: string;
  /** What to do when it fails. */
  readonly hint: string;
}

/** One check of an interval. A new check: one file beside this one and one line in `judge.ts`. */
export interface Check {
  readonly name: string;
  readonly aspect: Aspect;
  readonly basis?: 'live' | 'paired';
  /** null when it does not apply to this window (e.g. label shares of a regression, pairs without shadow or replay). */
  measure(window: JudgeWindow, limits: JudgeLimits): Measurement | null;
}
