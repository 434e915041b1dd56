/**
 * The judge's analysis out of a canary's progress output (stderr): each interval's `analysis at
 * N%: ...` line and its indented check lines, as `describeInterval` prints them; the rest (steps,
 * warm-up, moves) left out. What a test prints when a canary did not end as it expected.
 */
export function analysisLines(progress: string): string[] {
  return progress.split('\n').filter((line) => /^(analysis at| {2})/.test(line));
}
