import { columnValues, isClassifier, labelCounts, labelsOf } from './checks/answers';
import type { OutputHistogram } from './verdict';
import type { JudgeWindow } from './window';

const BINS = 20;

/**
 * The two colors' answers side by side, for the dashboard: label counts for a classifier, else
 * the first output in equal-width bins over both colors' range. null without answers.
 */
export function outputHistogram({ canary, stable }: JudgeWindow): OutputHistogram | null {
  if (isClassifier(canary.answers, stable.answers)) {
    const labels = labelsOf(canary.answers, stable.answers);
    return { kind: 'labels', labels, canary: labelCounts(canary.answers, labels), stable: labelCounts(stable.answers, labels) };
  }
  const c = columnValues(canary.answers, 0).filter(Number.isFinite);
  const s = columnValues(stable.answers, 0).filter(Number.isFinite);
  if (c.length === 0 && s.length === 0) return null;
  let low = Infinity;
  let high = -Infinity;
  for (const value of [...c, ...s]) [low, high] = [Math.min(low, value), Math.max(high, value)];
  const width = high > low ? (high - low) / BINS : 1;
  const edges = Array.from({ length: (high > low ? BINS : 1) + 1 }, (_, i) => low + i * width);
  const count = (values: readonly number[]) => {
    const counts = new Array<number>(edges.length - 1).fill(0);
    for (const value of values) {
      const bin = Math.min(counts.length - 1, Math.floor((value - low) / width));
      counts[bin] = (counts[bin] ?? 0) + 1;
    }
    return counts;
  };
  return { kind: 'values', edges, canary: count(c), stable: count(s) };
}
