import { quantileOfSorted } from './order';

/** Shares below this count as this in PSI, so a bin one color never reached does not make it infinite. */
const SHARE_FLOOR = 1e-4;

export interface PopulationStability {
  readonly psi: number;
  /** Bin edges: halfway below each of the stable's quantiles (a repeated one merged); bin i holds values in [edges[i-1], edges[i]). */
  readonly edges: readonly number[];
}

/**
 * The population stability index of `canary` against `stable`: sum over bins of
 * (canary share - stable share) * ln(canary share / stable share), bins at the stable's
 * quantiles. Each edge sits halfway between its quantile and the next smaller stable value, so
 * answers that take a few distinct values (a model fed a handful of bodies) are not thrown into
 * another bin by a change in their last digits. Usual reading: below 0.1 no real change, 0.1 to 0.25 a moderate one, above 0.25 a
 * large one. A formula, in no statistics package.
 */
export function populationStability(canary: readonly number[], stable: readonly number[], bins = 10): PopulationStability {
  if (canary.length === 0 || stable.length === 0) return { psi: 0, edges: [] };
  const sorted = Float64Array.from(stable).sort();
  const quantiles = Array.from({ length: bins - 1 }, (_, i) => quantileOfSorted(sorted, (i + 1) / bins) ?? 0);
  // A quantile that is the stable's smallest value opens no bin: nothing of the stable lies below it.
  const edges = [...new Set(quantiles.map((quantile) => halfwayBelow(sorted, quantile)).filter((edge) => edge !== undefined))];
  const canaryShares = binShares(canary, edges);
  const stableShares = binShares(stable, edges);
  let psi = 0;
  canaryShares.forEach((share, i) => {
    const c = Math.max(share, SHARE_FLOOR);
    const s = Math.max(stableShares[i] ?? 0, SHARE_FLOOR);
    psi += (c - s) * Math.log(c / s);
  });
  return { psi, edges };
}

/** Halfway between `value` and the largest sorted value below it; undefined when there is none. */
function halfwayBelow(sorted: Float64Array, value: number): number | undefined {
  const below = sorted[binOf(value, sorted) - countOf(sorted, value) - 1];
  return below === undefined ? undefined : (below + value) / 2;
}

function countOf(sorted: Float64Array, value: number): number {
  let count = 0;
  for (let i = binOf(value, sorted) - 1; i >= 0 && sorted[i] === value; i--) count++;
  return count;
}

function binShares(values: readonly number[], edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const value of values) counts[binOf(value, edges)] = (counts[binOf(value, edges)] ?? 0) + 1;
  return counts.map((count) => count / values.length);
}

/** The index of the first edge above `value` (binary search): values equal to an edge go to the bin it opens. */
function binOf(value: number, edges: ArrayLike<number>): number {
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((edges[middle] ?? Infinity) <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}
