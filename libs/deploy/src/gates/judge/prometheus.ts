import type { Color } from '@mlbg/contract';
import { Gauge, Registry } from 'prom-client';
import { CheckVerdict, type Judgement, Verdict } from './verdict';

/** The judge's last verdict and what it was about. */
export interface LastJudgement {
  readonly judgement: Judgement;
  readonly canary: Color;
  readonly stable: Color;
  readonly canaryVersion: string | null;
  readonly stableVersion: string | null;
  readonly weight: number;
  /** When the interval was judged (ms since the epoch). */
  readonly judgedAt: number;
}

/**
 * The judge's last verdict in Prometheus' text format, per check: its verdict (one series per
 * possible verdict, 1 for the one it has, as kube-state-metrics writes states), p-values, effect
 * and sample sizes; and the interval's verdict. So an alert, or an Argo Rollouts AnalysisTemplate,
 * reads e.g. `max(mlbg_canary_check_verdict{verdict="fail"}) > 0`. Nothing at all before a first verdict.
 */
export async function judgeMetrics(last: LastJudgement | null): Promise<string> {
  const registry = new Registry();
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Gauge<L>({ name, help, labelNames: [...labelNames], registers: [registry] });
  const info = gauge('mlbg_canary_judge_info', 'The canary the last verdict is about (always 1).', [
    'canary',
    'stable',
    'canary_version',
    'stable_version',
  ]);
  const weight = gauge('mlbg_canary_judge_weight_percent', "The canary's share of live traffic in the judged interval.", []);
  const judgedAt = gauge('mlbg_canary_judge_timestamp_seconds', 'When the last interval was judged.', []);
  const alpha = gauge('mlbg_canary_judge_false_alarm_rate', "The interval's family-wise false-alarm rate (Holm).", []);
  const interval = gauge('mlbg_canary_judge_verdict', "The last interval's verdict: 1 for the one it has.", ['verdict']);
  const verdict = gauge('mlbg_canary_check_verdict', "Each check's last verdict: 1 for the one it has.", ['check', 'aspect', 'verdict']);
  const pValue = gauge('mlbg_canary_check_p_value', "Each check's p-value (absent when its test was not run).", ['check']);
  const adjusted = gauge('mlbg_canary_check_adjusted_p_value', "Each check's p-value after Holm's adjustment.", ['check']);
  const statistic = gauge('mlbg_canary_check_statistic', "Each check's test statistic.", ['check']);
  const effect = gauge('mlbg_canary_check_effect', "Each check's effect size (see its name in the CLI's output).", ['check']);
  const effectLimit = gauge('mlbg_canary_check_effect_limit', "The limit of each check's effect size.", ['check']);
  const samples = gauge('mlbg_canary_check_samples', 'The samples each check had, per color (canary, stable).', ['check', 'color']);
  const minimum = gauge('mlbg_canary_check_min_samples', 'The samples each check needs for a pass.', ['check']);
  if (last) {
    const { judgement } = last;
    info.set(
      { canary: last.canary, stable: last.stable, canary_version: last.canaryVersion ?? '', stable_version: last.stableVersion ?? '' },
      1,
    );
    weight.set(last.weight);
    judgedAt.set(last.judgedAt / 1000);
    alpha.set(judgement.falseAlarmRate);
    for (const option of Verdict.options) interval.set({ verdict: option }, judgement.verdict === option ? 1 : 0);
    for (const check of judgement.checks) {
      const name = { check: check.name };
      for (const option of CheckVerdict.options)
        verdict.set({ ...name, aspect: check.aspect, verdict: option }, check.verdict === option ? 1 : 0);
      if (check.pValue !== null) pValue.set(name, check.pValue);
      if (check.adjustedP !== null) adjusted.set(name, check.adjustedP);
      if (check.statistic !== null) statistic.set(name, check.statistic);
      if (check.effect?.value !== null && check.effect?.value !== undefined) effect.set(name, check.effect.value);
      if (check.effect) effectLimit.set(name, check.effect.limit);
      samples.set({ ...name, color: 'canary' }, check.samples.canary);
      if (check.samples.stable !== null) samples.set({ ...name, color: 'stable' }, check.samples.stable);
      minimum.set(name, check.samples.minimum);
    }
  }
  return last ? registry.metrics() : '';
}
