import type { JudgeResult } from '@mlbg/contract';
import { explainCheck } from '../gates/judge/describe';
import { JUDGE_EXIT } from '../commands/judge/judge-sent';

/** `deploy:judge`'s output: the verdict first (a Job's log is read from the top), then one line per check (what it saw and its numbers), why, and the exit status. */
export function formatJudge(result: JudgeResult): string[] {
  const version = (value: string | null) => (value ? ` (${value})` : '');
  const where = (color: JudgeResult['canary']) => (result.where ? ` at ${result.where[color]}` : '');
  const window =
    result.source === 'sent'
      ? `on ${result.requests} requests sent to each from ${result.since} to ${result.until}`
      : `on the live traffic from ${result.since} to ${result.until}`;
  const { judgement } = result;
  return [
    `judge: ${judgement.verdict.toUpperCase()} - canary ${result.canary}${version(result.canaryVersion)}${where(result.canary)} against stable ${result.stable}${version(result.stableVersion)}${where(result.stable)} ${window} (false-alarm rate ${judgement.falseAlarmRate}, Holm)`,
    ...judgement.checks.map((check) => `  ${explainCheck(check)}`),
    ...judgement.reasons.map((reason) => `  why: ${reason}`),
    `  exit status: ${JUDGE_EXIT[judgement.verdict]} (0 pass, 1 fail, 3 inconclusive)`,
  ];
}
