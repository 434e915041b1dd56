import type { LastJudgement } from '../gates/judge/prometheus';
import type { CanaryEntry, HistoryEntry } from '../history/history';
import type { StackView } from './feed';

/**
 * The judge's last verdict as the dashboard knows it: the running canary's last interval (its
 * progress file, through the status), else the last judged interval of the last canary in the
 * history. null before any canary was judged.
 */
export function lastJudgement(stack: StackView, entries: readonly HistoryEntry[]): LastJudgement | null {
  const running = stack.status?.canary;
  const lastCanary = entries.filter((entry): entry is CanaryEntry => entry.command === 'canary').at(-1);
  const runningJudgement = running?.lastAnalysis?.judgement;
  if (running?.lastAnalysis && runningJudgement) {
    const interval = running.lastAnalysis;
    const versions = lastCanary && lastCanary.canary === running.canary ? lastCanary : undefined;
    return {
      judgement: runningJudgement,
      canary: running.canary,
      stable: running.stable,
      canaryVersion: versions?.canaryVersion ?? null,
      stableVersion: versions?.stableVersion ?? null,
      weight: interval.weight,
      judgedAt: Date.parse(interval.startedAt) + interval.durationMs,
    };
  }
  const ended = entries
    .filter((entry): entry is CanaryEntry => entry.command === 'canary' && entry.intervals.some((i) => i.judgement))
    .at(-1);
  const interval = ended?.intervals.filter((item) => item.judgement).at(-1);
  if (!ended || !interval?.judgement) return null;
  return {
    judgement: interval.judgement,
    canary: ended.canary,
    stable: ended.stable,
    canaryVersion: ended.canaryVersion,
    stableVersion: ended.stableVersion,
    weight: interval.weight,
    judgedAt: Date.parse(interval.startedAt) + interval.durationMs,
  };
}
