import binomialTest from '@stdlib/stats-binomial-test';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';

/**
 * The exact binomial test (stdlib's): `successes` of `trials` against a share `share` under the
 * null hypothesis; `greater` asks whether the true share is above it, `less` whether below.
 * No trials at all is no evidence: p = 1.
 */
export function binomialP(successes: number, trials: number, share: number, alternative: 'greater' | 'less'): number {
  if (trials === 0) return 1;
  // stdlib asks for 0 < p < 1; at the ends the answer is certain.
  if (share <= 0) return alternative === 'greater' ? (successes > 0 ? 0 : 1) : 1;
  if (share >= 1) return alternative === 'less' ? (successes < trials ? 0 : 1) : 1;
  return binomialTest(successes, trials, { p: share, alternative }).pValue;
}

/**
 * The one-sided Wilson score lower bound of a share at `confidence` (e.g. 0.99): the share is at
 * least this with that confidence. A formula (Wilson 1927) on stdlib's normal quantile; null
 * without trials.
 */
export function wilsonLowerBound(successes: number, trials: number, confidence: number): number | null {
  if (trials === 0) return null;
  const z = normalQuantile(confidence, 0, 1);
  const share = successes / trials;
  const z2n = (z * z) / trials;
  const centre = share + z2n / 2;
  const spread = z * Math.sqrt((share * (1 - share)) / trials + z2n / (4 * trials));
  return Math.max(0, (centre - spread) / (1 + z2n));
}
