import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';

export interface ChiSquare {
  readonly statistic: number;
  readonly df: number;
  readonly pValue: number;
}

/**
 * Pearson's chi-square test of homogeneity of two rows of counts (e.g. each color's answers per
 * label). Categories neither row has are dropped; with one category left there is nothing to
 * compare (p = 1). A 2x2 table gets Yates' continuity correction (as R's `chisq.test` and scipy's
 * `chi2_contingency` by default). The distribution is stdlib's; the statistic is computed here
 * because `@stdlib/stats-chi2test` depends on a git URL that npm can not install from the registry.
 */
export function chiSquareHomogeneity(first: readonly number[], second: readonly number[]): ChiSquare {
  const columns = first.map((count, i) => [count, second[i] ?? 0] as const).filter(([a, b]) => a + b > 0);
  const totals = [columns.reduce((sum, [a]) => sum + a, 0), columns.reduce((sum, [, b]) => sum + b, 0)] as const;
  const all = totals[0] + totals[1];
  const df = columns.length - 1;
  if (df < 1 || totals[0] === 0 || totals[1] === 0) return { statistic: 0, df: Math.max(df, 0), pValue: 1 };
  let statistic = 0;
  for (const column of columns) {
    const columnTotal = column[0] + column[1];
    for (const row of [0, 1] as const) {
      const expected = (totals[row] * columnTotal) / all;
      const distance = Math.abs(column[row] - expected);
      const corrected = df === 1 ? Math.max(0, distance - 0.5) : distance;
      statistic += (corrected * corrected) / expected;
    }
  }
  return { statistic, df, pValue: 1 - chisquareCdf(statistic, df) };
}
