import type { GateResult } from '../gate';
import { formatP, short } from './checks/format';
import type { JudgedCheck, Judgement } from './verdict';

/**
 * One line per check, the same in the CLI's progress, `deploy:status`, `deploy:judge` and the
 * history's reasons: the verdict, the statistic, the p-value (raw and Holm-adjusted, against
 * alpha), the effect against its limit, and the samples against the minimum.
 */
export function describeCheck(check: JudgedCheck): string {
  const parts = [`${check.name} ${check.verdict.toUpperCase()}`];
  if (check.statistic !== null) parts.push(`statistic ${short(check.statistic)}`);
  parts.push(
    check.pValue === null
      ? 'no test (too few samples)'
      : `p ${formatP(check.pValue)}${check.adjustedP === null ? '' : ` (Holm ${formatP(check.adjustedP)})`} vs alpha ${check.alpha}`,
  );
  if (check.effect) parts.push(`${check.effect.name} ${short(check.effect.value)} (limit ${short(check.effect.limit)})`);
  const { canary, stable, minimum } = check.samples;
  parts.push(`n ${canary}${stable === null ? '' : `/${stable}`} (min ${minimum})`);
  return parts.join('; ');
}

/** A check that decided a verdict, for a reason: what it saw, then its numbers (only what it saw, when it had too little data). */
export function explainCheck(check: JudgedCheck): string {
  const seen = `${check.name} ${check.verdict.toUpperCase()}: ${check.observed}`;
  return check.verdict === 'inconclusive' ? seen : `${seen}; ${describeCheck(check).split('; ').slice(1).join('; ')}`;
}

/** The judged checks as gate results (name, ok, observed, expected, hint), as every interval has always listed them. */
export function judgementGates(judgement: Judgement): GateResult[] {
  return judgement.checks.map((check) => ({
    name: check.name,
    ok: check.verdict === 'pass' || check.verdict === 'waived',
    observed: `${check.verdict === 'waived' ? '(not counted: an output change was declared) ' : ''}${check.observed}`,
    expected: check.expected,
    ...(check.hint ? { hint: check.hint } : {}),
  }));
}

/** The checks that decided a verdict: the failed ones of a failed interval, the inconclusive ones of an inconclusive one. */
export function decidingChecks(judgement: Judgement): JudgedCheck[] {
  if (judgement.verdict === 'pass') return [];
  return judgement.checks.filter((check) => check.verdict === judgement.verdict);
}
