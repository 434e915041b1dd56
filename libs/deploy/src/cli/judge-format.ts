import type { JudgeResult } from '../commands/judge/judge';
import { percent } from '../gates';

/** `deploy judge`'s output: the verdict first (a Job's log is read from the top), then each check with its numbers. */
export function formatJudge(result: JudgeResult): string[] {
  const { analysis, diff } = result;
  const side = (sample: JudgeResult['analysis']['canary'], role: string) =>
    `  ${role} ${sample.color} (${result.where[sample.color]}): ${sample.requests} requests, ${sample.errors} 5xx (${sample.errorRate === null ? 'n/a' : percent(sample.errorRate)}), p99 ${sample.p99Ms ?? 'n/a'} ms`;
  return [
    `judge: ${result.verdict.toUpperCase()} - canary ${result.canary} against stable ${result.stable}, ${result.requests} requests each, in ${(result.durationMs / 1000).toFixed(1)} s`,
    side(analysis.canary, 'canary'),
    side(analysis.stable, 'stable'),
    ...analysis.checks.map(
      (check) =>
        `  ${check.ok ? 'ok' : 'FAILED'} ${check.name}: ${check.observed} (expected ${check.expected})${check.ok ? '' : `; ${check.hint ?? ''}`}`,
    ),
    `  ${result.diffProblems.length === 0 ? 'ok' : 'FAILED'} answers: ${diff.pairs} pairs, ${diff.withinShare === null ? 'n/a' : percent(diff.withinShare)} within tolerance (|diff| <= ${diff.tolerance.absolute} + ${diff.tolerance.relative} x |stable|)${diff.classifier ? `, labels agree on ${percent(diff.classifier.labelAgreement)}` : ''}; versions ${diff.live.version ?? '?'} -> ${diff.candidate.version ?? '?'}`,
    ...result.diffProblems.map((problem) => `    ${problem}`),
    ...result.reasons.map((reason) => `  why: ${reason}`),
    `  exit status: ${result.verdict === 'pass' ? 0 : result.verdict === 'fail' ? 1 : 3} (0 pass, 1 fail, 3 inconclusive)`,
  ];
}
