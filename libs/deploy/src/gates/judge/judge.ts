import type { Check } from './checks/check';
import { classProbabilitiesCheck } from './checks/class-probabilities';
import { errorCeilingCheck } from './checks/error-ceiling';
import { errorShareCheck } from './checks/error-share';
import { labelSharesCheck } from './checks/label-shares';
import { latencyCheck } from './checks/latency';
import { outputDistributionCheck } from './checks/output-distribution';
import { p99CeilingCheck } from './checks/p99-ceiling';
import { pairedAgreementCheck } from './checks/paired-agreement';
import { type Measured, intervalVerdict, judgeFamily } from './family';
import { outputHistogram } from './histogram';
import type { JudgeLimits } from './limits';
import type { Judgement } from './verdict';
import type { JudgeWindow } from './window';

/** Every check, in the order they are shown. */
export const CHECKS: readonly Check[] = [
  errorShareCheck,
  errorCeilingCheck,
  latencyCheck,
  p99CeilingCheck,
  outputDistributionCheck,
  labelSharesCheck,
  classProbabilitiesCheck,
  pairedAgreementCheck,
];

/**
 * Judges one interval: canary against stable on the same window, every applicable check, Holm
 * over the family, and the verdict with its reasons. Pure and backend-independent.
 */
export function judgeInterval(window: JudgeWindow, limits: JudgeLimits): Judgement {
  const measured: Measured[] = [];
  for (const check of CHECKS) {
    const measurement = check.measure(window, limits);
    if (measurement) measured.push({ check, measurement, counted: !(check.aspect === 'outputs' && limits.outputs?.expectChange) });
  }
  const checks = judgeFamily(measured, limits.falseAlarmRate);
  const { verdict, reasons } = intervalVerdict(checks);
  const waived = limits.outputs?.expectChange
    ? ['outputs: an output change was declared (--expect-output-change): shown, not counted']
    : [];
  return {
    verdict,
    falseAlarmRate: limits.falseAlarmRate,
    checks,
    histogram: limits.outputs ? outputHistogram(window) : null,
    reasons: [...reasons, ...waived],
  };
}
