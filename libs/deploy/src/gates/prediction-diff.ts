import type { DiffResult } from '@mlbg/contract';
import { isAbsolute, resolve } from 'node:path';
import { DEFAULT_PREDICTION_DIFF, type DeploymentSpec } from '../spec/deployment-spec';
import { readReplayFile } from '../effects/replay-file';
import { DeployError } from '../errors';
import { type Gate, type GateContext, failed, passed } from './gate';
import { type DiffCriteria, type DiffReport, diffProblems, diffReport, percent } from './prediction-diff-report';
import { type CollectedPairs, replayPairs, shadowPairs } from './prediction-pairs';

export const PREDICTION_DIFF_GATE = 'prediction-diff';

/** A report judged (or not) against criteria: what `deploy diff` prints and the gate decides on (the contract's). */
export type { DiffResult } from '@mlbg/contract';

/** What the gate compares and what it requires. */
export interface PredictionDiffSettings {
  readonly criteria: DiffCriteria;
  /** Absolute path of a replay file; absent = the shadow traffic's records. */
  readonly replayFile?: string;
  /** Given every report the gate made (the CLI keeps it as the latest, for the dashboard). */
  readonly onReport?: (result: DiffResult) => void;
}

export const DEFAULT_PREDICTION_DIFF_SETTINGS: PredictionDiffSettings = predictionDiffSettings(undefined, '');

/** The settings of the spec's `predictionDiff` section, with a relative replay path resolved against `workspaceRoot`. */
export function predictionDiffSettings(
  section: DeploymentSpec['predictionDiff'] | undefined,
  workspaceRoot: string,
): PredictionDiffSettings {
  const values = section ?? DEFAULT_PREDICTION_DIFF;
  const replay = section?.replay;
  return {
    criteria: {
      tolerance: { absolute: values.absoluteTolerance, relative: values.relativeTolerance },
      minAgreement: values.minAgreement,
      minPairs: values.minPairs,
    },
    ...(replay ? { replayFile: isAbsolute(replay) ? replay : resolve(workspaceRoot, replay) } : {}),
  };
}

/** Collects the pairs (replay or shadow records) and reports on them; shared by the gate and `deploy:diff`. */
export async function comparePredictions(
  context: Pick<GateContext, 'colors' | 'from' | 'to'>,
  options: {
    readonly tolerance: DiffCriteria['tolerance'];
    readonly replay?: readonly string[];
    readonly progress?: (line: string) => void;
  },
): Promise<{ report: DiffReport; collected: CollectedPairs }> {
  const { colors, from, to } = context;
  const collected = options.replay
    ? await replayPairs(colors, from, to, options.replay, options.progress)
    : await shadowPairs(colors, from, to);
  const report = diffReport(collected.pairs, {
    source: options.replay ? 'replay' : 'shadow',
    live: { color: from, version: collected.versions.live },
    candidate: { color: to, version: collected.versions.candidate },
    tolerance: options.tolerance,
    unpaired: collected.unpaired,
  });
  return { report, collected };
}

/** One line of the numbers that matter, for a gate result and the history. */
export function summarizeReport(report: DiffReport): string {
  const parts = [
    `${report.pairs} pair(s) (${report.source}) of ${report.candidate.color} ${report.candidate.version ?? '?'} against ${report.live.color} ${report.live.version ?? '?'}`,
  ];
  if (report.withinShare !== null) parts.push(`${percent(report.withinShare)} within tolerance`);
  if (report.absDiff)
    parts.push(`abs diff mean ${fixed(report.absDiff.mean)}, p99 ${fixed(report.absDiff.p99)}, max ${fixed(report.absDiff.max)}`);
  if (report.classifier)
    parts.push(
      `labels agree ${percent(report.classifier.labelAgreement)}, largest probability shift ${fixed(report.classifier.largestProbabilityShift)}`,
    );
  return parts.join('; ');
}

export function describeCriteria(criteria: DiffCriteria): string {
  const { absolute, relative } = criteria.tolerance;
  return `at least ${criteria.minPairs} pairs, at least ${percent(criteria.minAgreement)} within |diff| <= ${absolute} + ${relative} x |live|`;
}

function fixed(value: number): string {
  return value === 0 ? '0' : Math.abs(value) >= 0.001 ? value.toFixed(4) : value.toExponential(2);
}

/**
 * The `prediction-diff` gate: the target answers the same requests as the live color within the
 * tolerance, on enough of them. Replays the spec's file when it names one, else compares the
 * records of the shadow traffic; too few pairs is a refusal.
 */
export function predictionDiffGate(settings: PredictionDiffSettings): Gate {
  return {
    name: PREDICTION_DIFF_GATE,
    // The color's answers as a whole: shadow copies are spread over its replicas, whose records are read together.
    scope: 'color',
    async run(context) {
      const { criteria } = settings;
      const expected = describeCriteria(criteria);
      let replay: string[] | undefined;
      let compared: Awaited<ReturnType<typeof comparePredictions>>;
      try {
        replay = settings.replayFile ? readReplayFile(settings.replayFile) : undefined;
        compared = await comparePredictions(context, { tolerance: criteria.tolerance, ...(replay ? { replay } : {}) });
      } catch (error) {
        // Nothing to compare (no such file, no admin route, a backend without them) is a refusal with its own advice.
        if (error instanceof DeployError) return failed(this.name, error.message, expected, error.hint);
        throw error;
      }
      const { report, collected } = compared;
      const problems = diffProblems(report, criteria);
      settings.onReport?.({ report, problems, judged: true, notes: [...collected.problems] });
      const observed = `${summarizeReport(report)}${collected.problems.length > 0 ? `; ${collected.problems.join('; ')}` : ''}`;
      if (problems.length === 0) return passed(this.name, observed, expected);
      const more =
        report.pairs < criteria.minPairs
          ? replay
            ? 'Give a replay file with more bodies.'
            : `Turn shadow traffic on (\`npx nx run deploy:shadow on\`) and let live traffic run until ${criteria.minPairs} requests are mirrored, or compare on a file (predictionDiff.replay in the spec).`
          : 'See the full report with `npx nx run deploy:diff`; loosen --max-diff / --min-agreement if the difference is intended.';
      return failed(this.name, `${problems.join('; ')} (${observed})`, expected, more);
    },
  };
}
