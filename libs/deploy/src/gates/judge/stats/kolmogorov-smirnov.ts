export interface KolmogorovSmirnov {
  /** The largest distance between the two empirical distribution functions. */
  readonly d: number;
  readonly pValue: number;
}

/**
 * The two-sample Kolmogorov-Smirnov test (two-sided). D over every value, ties stepping both
 * empirical distributions at once; p from the limiting Kolmogorov distribution with Stephens'
 * small-sample correction, lambda = (sqrt(ne) + 0.12 + 0.11 / sqrt(ne)) * D, ne = n m / (n + m)
 * (Numerical Recipes, 3rd ed., 14.3.3). By hand: stdlib's kstest is one-sample only, and no
 * maintained JavaScript package has the two-sample test or the Kolmogorov distribution.
 */
export function ksTwoSample(first: readonly number[], second: readonly number[]): KolmogorovSmirnov {
  const n = first.length;
  const m = second.length;
  if (n === 0 || m === 0) return { d: 0, pValue: 1 };
  const a = Float64Array.from(first).sort();
  const b = Float64Array.from(second).sort();
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const x = Math.min(a[i] ?? Infinity, b[j] ?? Infinity);
    while (i < n && (a[i] ?? Infinity) <= x) i++;
    while (j < m && (b[j] ?? Infinity) <= x) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  const ne = Math.sqrt((n * m) / (n + m));
  return { d, pValue: kolmogorovSurvival((ne + 0.12 + 0.11 / ne) * d) };
}

/**
 * P(K > lambda) of the Kolmogorov distribution. Two series of the same function, each where it
 * converges fast: the alternating 2 sum (-1)^(k-1) exp(-2 k^2 lambda^2) above 1.18, the Jacobi
 * theta form 1 - sqrt(2 pi) / lambda sum exp(-(2k-1)^2 pi^2 / (8 lambda^2)) below.
 */
export function kolmogorovSurvival(lambda: number): number {
  if (!(lambda > 0)) return 1;
  if (lambda < 1.18) {
    const w = (Math.PI * Math.PI) / (8 * lambda * lambda);
    let sum = 0;
    for (let k = 1; k <= 20; k++) sum += Math.exp(-(2 * k - 1) * (2 * k - 1) * w);
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / lambda) * sum));
  }
  let sum = 0;
  for (let k = 1; k <= 20; k++) sum += (k % 2 === 1 ? 2 : -2) * Math.exp(-2 * k * k * lambda * lambda);
  return Math.min(1, Math.max(0, sum));
}
