import type { ClassLabel, DiffReport, DiffSource, DiffTolerance, HistogramBin, LatencySummary, PredictionRecord } from '@mlbg/contract';

/**
 * The comparison behind `deploy:diff` and the `prediction-diff` gate: the live color's and the
 * candidate's answers to the same requests, joined by request id. Pure: pairs in, a report out.
 */

// The report's shapes are the contract's (`deploy diff --json`, last-diff.json, the dashboard's diff panel).
export type { DiffReport, DiffSource, DiffTolerance, HistogramBin, LatencySummary } from '@mlbg/contract';

/** What the gate requires of a report. Too few pairs is a refusal, never a pass. */
export interface DiffCriteria {
  readonly tolerance: DiffTolerance;
  /** Share (0..1) of pairs within tolerance, and of classifier rows with the same label. */
  readonly minAgreement: number;
  readonly minPairs: number;
}

/** One color's answer to one request. */
export interface AnswerSide {
  readonly outputs: readonly (readonly number[])[];
  readonly labels?: readonly ClassLabel[];
  readonly latencyMs: number;
  readonly inputDigest?: string;
  /** The record kept only a digest of the numbers (too wide to keep): compared by it, exactly. */
  readonly outputsDigest?: string;
}

export interface PredictionPair {
  readonly requestId: string;
  readonly live: AnswerSide;
  readonly candidate: AnswerSide;
}

const HISTOGRAM_BINS = 10;
const LARGEST_SHOWN = 3;

/**
 * Joins the live color's live records with the candidate's shadow records by request id.
 * Records of the other kind (replayed or shadowed on the live color) are left out.
 */
export function pairRecords(
  live: readonly PredictionRecord[],
  candidate: readonly PredictionRecord[],
): { pairs: PredictionPair[]; unpaired: { live: number; candidate: number } } {
  const liveById = new Map(live.filter((record) => !record.shadow).map((record) => [record.requestId, record]));
  const pairs: PredictionPair[] = [];
  let candidateAlone = 0;
  for (const record of candidate) {
    if (!record.shadow) continue;
    const partner = liveById.get(record.requestId);
    if (!partner) {
      candidateAlone += 1;
      continue;
    }
    liveById.delete(record.requestId);
    pairs.push({ requestId: record.requestId, live: sideOf(partner), candidate: sideOf(record) });
  }
  return { pairs, unpaired: { live: liveById.size, candidate: candidateAlone } };
}

function sideOf(record: PredictionRecord): AnswerSide {
  return {
    outputs: record.outputs,
    latencyMs: record.latencyMs,
    inputDigest: record.inputDigest,
    ...(record.labels ? { labels: record.labels } : {}),
    ...(record.outputsDigest ? { outputsDigest: record.outputsDigest } : {}),
  };
}

/** The report of a set of pairs. */
export function diffReport(
  pairs: readonly PredictionPair[],
  options: {
    readonly source: DiffSource;
    readonly live: DiffReport['live'];
    readonly candidate: DiffReport['candidate'];
    readonly tolerance: DiffTolerance;
    readonly unpaired?: DiffReport['unpaired'];
  },
): DiffReport {
  const { absolute, relative } = options.tolerance;
  const diffs: number[] = [];
  const perPair: { requestId: string; maxAbsDiff: number }[] = [];
  let inputMismatches = 0;
  let shapeMismatches = 0;
  let within = 0;
  let labelRows = 0;
  let sameLabel = 0;
  let probabilityShift = 0;
  const latency = { live: [] as number[], candidate: [] as number[] };

  for (const pair of pairs) {
    const { live, candidate } = pair;
    if (live.inputDigest !== undefined && candidate.inputDigest !== undefined && live.inputDigest !== candidate.inputDigest) {
      inputMismatches += 1;
      continue;
    }
    latency.live.push(live.latencyMs);
    latency.candidate.push(candidate.latencyMs);
    if (live.outputsDigest !== undefined || candidate.outputsDigest !== undefined) {
      // Only the digests are left: equal numbers or not (no tolerance), and never within when one side has none.
      const same = live.outputsDigest !== undefined && live.outputsDigest === candidate.outputsDigest;
      // No magnitude to show among the largest differences.
      if (same) within += 1;
      continue;
    }
    const sameShape =
      live.outputs.length === candidate.outputs.length && live.outputs.every((row, i) => row.length === candidate.outputs[i]?.length);
    if (!sameShape) {
      shapeMismatches += 1;
      continue;
    }
    let pairWithin = true;
    let pairMax = 0;
    live.outputs.forEach((row, i) => {
      row.forEach((expected, j) => {
        const diff = Math.abs((candidate.outputs[i]?.[j] ?? NaN) - expected);
        diffs.push(diff);
        pairMax = Math.max(pairMax, diff);
        if (!(diff <= absolute + relative * Math.abs(expected))) pairWithin = false;
      });
    });
    if (live.labels && candidate.labels) {
      probabilityShift = Math.max(probabilityShift, pairMax);
      live.labels.forEach((label, i) => {
        labelRows += 1;
        if (candidate.labels?.[i] === label) sameLabel += 1;
        else pairWithin = false;
      });
    }
    if (pairWithin) within += 1;
    perPair.push({ requestId: pair.requestId, maxAbsDiff: pairMax });
  }

  const compared = pairs.length - inputMismatches;
  const sorted = [...diffs].sort((a, b) => a - b);
  return {
    source: options.source,
    live: options.live,
    candidate: options.candidate,
    tolerance: options.tolerance,
    pairs: compared,
    unpaired: options.unpaired ?? { live: 0, candidate: 0 },
    inputMismatches,
    shapeMismatches,
    withinTolerance: within,
    withinShare: compared === 0 ? null : within / compared,
    absDiff:
      sorted.length === 0
        ? null
        : {
            values: sorted.length,
            mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
            p99: quantile(sorted, 0.99),
            max: sorted[sorted.length - 1] ?? 0,
          },
    classifier:
      labelRows === 0 ? null : { rows: labelRows, labelAgreement: sameLabel / labelRows, largestProbabilityShift: probabilityShift },
    latencyMs: { live: summarize(latency.live), candidate: summarize(latency.candidate) },
    histogram: histogram(sorted),
    largest: perPair.sort((a, b) => b.maxAbsDiff - a.maxAbsDiff).slice(0, LARGEST_SHOWN),
  };
}

/** Why a report does not meet the criteria; empty when it does. */
export function diffProblems(report: DiffReport, criteria: DiffCriteria): string[] {
  const problems: string[] = [];
  if (report.pairs < criteria.minPairs) problems.push(`only ${report.pairs} pair(s) to compare, at least ${criteria.minPairs} needed`);
  if (report.withinShare !== null && report.withinShare < criteria.minAgreement) {
    problems.push(
      `${percent(report.withinShare)} of pairs within tolerance (|diff| <= ${report.tolerance.absolute} + ${report.tolerance.relative} x |live|), at least ${percent(criteria.minAgreement)} needed`,
    );
  }
  if (report.classifier && report.classifier.labelAgreement < criteria.minAgreement) {
    problems.push(
      `labels agree on ${percent(report.classifier.labelAgreement)} of rows, at least ${percent(criteria.minAgreement)} needed`,
    );
  }
  return problems;
}

/** `0.9876` -> `98.8%`. */
export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
}

function summarize(values: readonly number[]): LatencySummary | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return { mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
}

/** Equal-width bins from 0 to the largest difference. */
function histogram(sorted: readonly number[]): HistogramBin[] {
  const max = sorted[sorted.length - 1];
  if (max === undefined) return [];
  if (max === 0) return [{ from: 0, to: 0, count: sorted.length }];
  const width = max / HISTOGRAM_BINS;
  const bins = Array.from({ length: HISTOGRAM_BINS }, (_, i) => ({ from: i * width, to: (i + 1) * width, count: 0 }));
  for (const value of sorted) {
    const bin = bins[Math.min(HISTOGRAM_BINS - 1, Math.floor(value / width))];
    if (bin) bin.count += 1;
  }
  return bins;
}
