import ttest2 from '@stdlib/stats-ttest2';

/**
 * Welch's two-sample t-test (stdlib's), two-sided: do the means differ? Its p-value and t. Two constant samples
 * (no variance, where the t statistic is undefined) are equal when their values are.
 */
export function welchTest(first: readonly number[], second: readonly number[]): { pValue: number; statistic: number } {
  if (first.length < 2 || second.length < 2) return { pValue: 1, statistic: 0 };
  if (isConstant(first) && isConstant(second))
    return first[0] === second[0] ? { pValue: 1, statistic: 0 } : { pValue: 0, statistic: Infinity };
  const { pValue, statistic } = ttest2([...first], [...second]);
  return Number.isFinite(pValue) ? { pValue, statistic } : { pValue: 1, statistic: 0 };
}

function isConstant(values: readonly number[]): boolean {
  return values.every((value) => value === values[0]);
}
