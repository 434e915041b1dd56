import type { Gate } from './gate';
import { healthStreakGate } from './health-streak';
import { predictGate } from './predict';
import { DEFAULT_PREDICTION_DIFF_SETTINGS, type PredictionDiffSettings, predictionDiffGate } from './prediction-diff';
import { signatureGate } from './signature';

/** Every gate by name. A new gate: one file beside these and one line here; the spec can then name it. */
export const GATES = {
  'health-streak': healthStreakGate,
  predict: predictGate,
  signature: signatureGate,
  // With the spec's predictionDiff settings when named through gatesNamed.
  'prediction-diff': predictionDiffGate(DEFAULT_PREDICTION_DIFF_SETTINGS),
} as const satisfies Record<string, Gate>;
export type GateName = keyof typeof GATES;
export const GATE_NAMES = Object.keys(GATES) as [GateName, ...GateName[]];

/**
 * The gates the spec names (`gates.preflight` in deploy/deployment.json), in its order.
 * @throws Error naming an unknown gate and the known ones
 */
export function gatesNamed(names: readonly string[], settings: { readonly predictionDiff?: PredictionDiffSettings } = {}): Gate[] {
  return names.map((name) => {
    if (!(name in GATES)) throw new Error(`unknown gate "${name}" in gates.preflight; the gates are ${GATE_NAMES.join(', ')}`);
    if (name === 'prediction-diff' && settings.predictionDiff) return predictionDiffGate(settings.predictionDiff);
    return GATES[name as GateName];
  });
}

export { DEFAULT_SWITCH_TIMING, GateResult, failed, passed } from './gate';
export type {
  ColorAccess,
  ExpectedVersion,
  Gate,
  GateContext,
  GateFacts,
  RecordedColor,
  ReplicaAccess,
  ReplicaQuorum,
  SwitchTiming,
} from './gate';
export { REPLICAS_GATE, runGates, runPreflight } from './run-gates';
export {
  DEFAULT_PREDICTION_DIFF_SETTINGS,
  PREDICTION_DIFF_GATE,
  comparePredictions,
  describeCriteria,
  predictionDiffGate,
  predictionDiffSettings,
  summarizeReport,
} from './prediction-diff';
export type { DiffResult, PredictionDiffSettings } from './prediction-diff';
export { diffProblems, diffReport, pairRecords, percent } from './prediction-diff-report';
export type { DiffCriteria, DiffReport, DiffTolerance, PredictionPair } from './prediction-diff-report';
export { readRecords } from './prediction-pairs';
export type { GateRun } from './run-gates';
export { CHECKS, judgeInterval } from './judge/judge';
export { judgeLimits } from './judge/limits';
export type { JudgeLimits, OutputLimits } from './judge/limits';
export { judgeMetrics } from './judge/prometheus';
export type { LastJudgement } from './judge/prometheus';
export { RECORDS_PAGE, colorWindow, liveAnswers, recordsMark, recordsSince, shadowPairs } from './judge/records-source';
export type { WindowRecords } from './judge/records-source';
export { Aspect, CheckVerdict, Effect, JudgedCheck, Judgement, OutputHistogram, Verdict } from './judge/verdict';
export type { Answer, ColorWindow, JudgeWindow, Served } from './judge/window';
