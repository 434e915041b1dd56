import type { Answer } from '../window';

/** Whether answers are a classifier's (they carry labels). */
export function isClassifier(...sides: readonly (readonly Answer[])[]): boolean {
  return sides.some((answers) => answers.some((answer) => answer.labels !== undefined));
}

/** Column `column` of every answer row (rows without it are skipped). */
export function columnValues(answers: readonly Answer[], column: number): number[] {
  const values: number[] = [];
  for (const answer of answers)
    for (const row of answer.outputs) {
      const value = row[column];
      if (value !== undefined) values.push(value);
    }
  return values;
}

/** The number of rows of all answers. */
export function rowCount(answers: readonly Answer[]): number {
  return answers.reduce((sum, answer) => sum + answer.outputs.length, 0);
}

/** The widest row: how many outputs (regression targets, classes) an answer has. */
export function columnCount(answers: readonly Answer[]): number {
  let columns = 0;
  for (const answer of answers) for (const row of answer.outputs) columns = Math.max(columns, row.length);
  return columns;
}

/** Answers per label, over the given label order. */
export function labelCounts(answers: readonly Answer[], labels: readonly string[]): number[] {
  const index = new Map(labels.map((label, i) => [label, i]));
  const counts = new Array<number>(labels.length).fill(0);
  for (const answer of answers)
    for (const label of answer.labels ?? []) {
      const i = index.get(String(label));
      if (i !== undefined) counts[i] = (counts[i] ?? 0) + 1;
    }
  return counts;
}

/** Every label either side answered, sorted. */
export function labelsOf(...sides: readonly (readonly Answer[])[]): string[] {
  return [...new Set(sides.flatMap((answers) => answers.flatMap((answer) => (answer.labels ?? []).map(String))))].sort();
}
