import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import ranks from '@stdlib/stats-ranks';

export interface MannWhitney {
  /** U of `first`: how many of the (first, second) pairs have the first value larger (ties count 1/2). */
  readonly u: number;
  readonly z: number;
  readonly pValue: number;
}

/**
 * The Mann-Whitney U test, one-sided: do the first values tend to be larger than the second?
 * Values that are not finite numbers are left out.
 * Normal approximation with the correction for ties and a continuity correction of 1/2, as R's
 * `wilcox.test(exact = FALSE)` and scipy's `mannwhitneyu(method="asymptotic")`. The ranks and
 * the normal distribution are stdlib's; the test is these lines, because no maintained JavaScript
 * package has it with a p-value (simple-statistics' `wilcoxonRankSum` returns the rank sum alone).
 */
export function mannWhitneyGreater(firstValues: readonly number[], secondValues: readonly number[]): MannWhitney {
  const first = firstValues.filter(Number.isFinite);
  const second = secondValues.filter(Number.isFinite);
  const n1 = first.length;
  const n2 = second.length;
  if (n1 === 0 || n2 === 0) return { u: 0, z: 0, pValue: 1 };
  const all = [...first, ...second];
  // missing: 'remove' (there are none left): the default, 'last', shifts an array once per value,
  // which is quadratic (3 s for 100,000 values here).
  const ranked = ranks(all, { method: 'average', missing: 'remove' });
  let rankSum = 0;
  for (let i = 0; i < n1; i++) rankSum += ranked[i] ?? 0;
  const u = rankSum - (n1 * (n1 + 1)) / 2;

  const n = n1 + n2;
  const tied = new Map<number, number>();
  for (const value of all) tied.set(value, (tied.get(value) ?? 0) + 1);
  let ties = 0;
  for (const t of tied.values()) ties += t * t * t - t;
  const variance = ((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1)));
  // Every value equal: nothing tells the groups apart.
  if (!(variance > 0)) return { u, z: 0, pValue: 1 };
  const z = (u - (n1 * n2) / 2 - 0.5) / Math.sqrt(variance);
  return { u, z, pValue: normalCdf(-z, 0, 1) };
}
