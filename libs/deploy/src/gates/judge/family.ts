import padjust from '@stdlib/stats-padjust';
import type { Check, Measurement } from './checks/check';
import type { Aspect, CheckVerdict, JudgedCheck, Verdict } from './verdict';

/**
 * The family of one interval's checks and what they decide together.
 *
 * Within an interval: the p-values of the counted checks are adjusted by Holm's step-down method
 * (stdlib's padjust), so the chance that any of them fails on a canary that is as good as the
 * stable color is at most `alpha`, however the checks depend on one another. A check without a
 * p-value (too little data for its test) counts as p = 1, so the family's size never shrinks with
 * the data. A check fails only when it is significant AND its effect is past its limit: the
 * effect can only remove failures, so it never raises the false-alarm rate.
 *
 * Across intervals: each interval is judged once, on its own window, at `alpha`; a canary is
 * rolled back only after `failureLimit` failed intervals in a row (the canary's loop), so for
 * independent windows a healthy canary is rolled back at a given interval with a chance of at
 * most alpha^failureLimit, and over a run of K intervals at most (K - failureLimit + 1) x that.
 */

export interface Measured {
  readonly check: Check;
  readonly measurement: Measurement;
  /** False when waived (an output change was declared): shown, not counted. */
  readonly counted: boolean;
}

/** Holm-adjusted p-values of the counted checks, in their order. */
export function holmAdjusted(pValues: readonly (number | null)[]): number[] {
  if (pValues.length === 0) return [];
  return padjust(
    pValues.map((p) => p ?? 1),
    'holm',
  );
}

/** Each check's verdict after the family's adjustment. */
export function judgeFamily(measured: readonly Measured[], alpha: number): JudgedCheck[] {
  const counted = measured.filter((item) => item.counted);
  const adjusted = holmAdjusted(counted.map((item) => item.measurement.pValue));
  return measured.map((item) => {
    const { check, measurement } = item;
    const index = counted.indexOf(item);
    const adjustedP = index < 0 || measurement.pValue === null ? null : (adjusted[index] ?? null);
    const significant = adjustedP !== null && adjustedP <= alpha;
    const failing = significant && (measurement.effect?.exceeded ?? true);
    const verdict: CheckVerdict = !item.counted ? 'waived' : failing ? 'fail' : measurement.enough ? 'pass' : 'inconclusive';
    return {
      name: check.name,
      aspect: check.aspect,
      ...(check.basis ? { basis: check.basis } : {}),
      test: measurement.test,
      statistic: finiteOrNull(measurement.statistic),
      pValue: finiteOrNull(measurement.pValue),
      adjustedP: finiteOrNull(adjustedP),
      alpha,
      effect: measurement.effect ? { ...measurement.effect, value: finiteOrNull(measurement.effect.value) } : null,
      samples: measurement.samples,
      verdict,
      observed:
        verdict === 'inconclusive'
          ? `${measurement.observed}: too little data (at least ${measurement.samples.minimum} needed)`
          : measurement.observed,
      expected: `${measurement.expected} (Holm-adjusted p <= ${alpha})`,
      ...(verdict === 'fail' || verdict === 'inconclusive' ? { hint: measurement.hint } : {}),
    };
  });
}

/**
 * The interval's verdict: `fail` when a counted check fails; else `pass` when every aspect is
 * judged (errors and latency: each of their checks passed; the answers: every live check passed,
 * or the paired check did); else `inconclusive`, never a pass. Also why, in a few words.
 */
export function intervalVerdict(checks: readonly JudgedCheck[]): { verdict: Verdict; reasons: string[] } {
  const failed = checks.filter((check) => check.verdict === 'fail');
  if (failed.length > 0) return { verdict: 'fail', reasons: failed.map((check) => `${check.name} failed: ${check.observed}`) };
  const reasons: string[] = [];
  for (const aspect of ['errors', 'latency', 'outputs'] satisfies Aspect[]) {
    const mine = checks.filter((check) => check.aspect === aspect && check.verdict !== 'waived');
    if (mine.length === 0) continue;
    const passed = (group: readonly JudgedCheck[]) => group.length > 0 && group.every((check) => check.verdict === 'pass');
    const judged =
      aspect === 'outputs'
        ? passed(mine.filter((check) => check.basis === 'live')) || passed(mine.filter((check) => check.basis === 'paired'))
        : passed(mine);
    if (!judged) {
      const short = mine.filter((check) => check.verdict === 'inconclusive').map((check) => check.name);
      reasons.push(`${aspect}: too little data for ${short.join(', ')}`);
    }
  }
  return reasons.length > 0 ? { verdict: 'inconclusive', reasons } : { verdict: 'pass', reasons: ['every check passed'] };
}

function finiteOrNull(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}
