import type { DeploymentSpec } from '../../spec/deployment-spec';
import { predictionDiffSettings } from '../prediction-diff';
import type { DiffCriteria } from '../prediction-diff-report';

/** The limits of the answers' checks; absent when the spec turns them off (`analysis.outputs.enabled: false`). */
export interface OutputLimits {
  /** Answer rows each color needs (live traffic) before the distributions can pass. */
  readonly minOutputs: number;
  /** A regression's output distribution fails only with a population stability index above this. */
  readonly maxPsi: number;
  /** A classifier fails on label shares only when one label's share moved more than this (0..1). */
  readonly maxLabelShift: number;
  /** ... and on probabilities only when one class's mean probability moved more than this. */
  readonly maxProbabilityShift: number;
  /** The paired comparison on the same requests (shadow copies, replays): the spec's `predictionDiff`. */
  readonly paired: DiffCriteria;
  /** The user declared that the answers change (--expect-output-change): measured and shown, not counted. */
  readonly expectChange: boolean;
}

/** Everything the judge needs to know besides the data. */
export interface JudgeLimits {
  /** The family-wise false-alarm rate of one interval (Holm over its checks). */
  readonly falseAlarmRate: number;
  /** Requests each color needs before errors and latency can pass. */
  readonly minRequests: number;
  /** The canary's 5xx share ceiling. */
  readonly maxErrorRate: number;
  /** How far above the stable's 5xx share the canary's may be. */
  readonly maxErrorRateAboveStable: number;
  /** The canary's p99 ceiling (ms). */
  readonly maxP99Ms: number;
  /** The canary's median latency may be this many times the stable's ... */
  readonly maxMedianRatio: number;
  /** ... or this many ms above it, whichever is larger. */
  readonly medianFloorMs: number;
  readonly outputs: OutputLimits | null;
}

/** The judge's limits from the spec's `canary.analysis` and `predictionDiff`, and the run's declaration of an output change. */
export function judgeLimits(
  spec: { readonly canary: DeploymentSpec['canary']; readonly predictionDiff?: DeploymentSpec['predictionDiff'] | undefined },
  run: { readonly expectOutputChange?: boolean } = {},
): JudgeLimits {
  const { analysis } = spec.canary;
  const { outputs } = analysis;
  return {
    falseAlarmRate: analysis.falseAlarmRate,
    minRequests: analysis.minRequests,
    maxErrorRate: analysis.maxErrorRate,
    maxErrorRateAboveStable: analysis.maxErrorRateAboveStable,
    maxP99Ms: analysis.maxP99Ms,
    maxMedianRatio: analysis.maxMedianRatio,
    medianFloorMs: analysis.medianFloorMs,
    outputs: outputs.enabled
      ? {
          minOutputs: outputs.minOutputs,
          maxPsi: outputs.maxPsi,
          maxLabelShift: outputs.maxLabelShift,
          maxProbabilityShift: outputs.maxProbabilityShift,
          paired: predictionDiffSettings(spec.predictionDiff, '').criteria,
          expectChange: run.expectOutputChange ?? false,
        }
      : null,
  };
}
