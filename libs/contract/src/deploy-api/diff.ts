import { z } from 'zod';
import { Color } from '../color';

/** numpy's `isclose`: a value is within when |candidate - live| <= absolute + relative * |live|. */
export const DiffTolerance = z.strictObject({ absolute: z.number(), relative: z.number() });
export type DiffTolerance = z.infer<typeof DiffTolerance>;

/** Where the pairs came from: mirrored live traffic, or a file sent to both colors. */
export const DiffSource = z.enum(['shadow', 'replay']);
export type DiffSource = z.infer<typeof DiffSource>;

export const LatencySummary = z.strictObject({ mean: z.number(), p50: z.number(), p99: z.number() });
export type LatencySummary = z.infer<typeof LatencySummary>;

/** Absolute differences in [from, to). The last bin includes `to`. */
export const HistogramBin = z.strictObject({ from: z.number(), to: z.number(), count: z.int().nonnegative() });
export type HistogramBin = z.infer<typeof HistogramBin>;

const ColorVersion = z.strictObject({ color: Color, version: z.string().nullable() });

/** The live color's and the candidate's answers to the same requests, compared (`deploy:diff`, the `prediction-diff` gate). */
export const DiffReport = z.strictObject({
  source: DiffSource,
  live: ColorVersion,
  candidate: ColorVersion,
  tolerance: DiffTolerance,
  pairs: z.int().nonnegative(),
  /** Requests only one side answered (e.g. shadow copies dropped by the relay, records overwritten). */
  unpaired: z.strictObject({ live: z.int().nonnegative(), candidate: z.int().nonnegative() }),
  /** Same request id, different input digest: not compared (a bug or a request id used twice). */
  inputMismatches: z.int().nonnegative(),
  /** Pairs whose rows or columns differ in number: compared as not within tolerance. */
  shapeMismatches: z.int().nonnegative(),
  withinTolerance: z.int().nonnegative(),
  /** null when there are no pairs. */
  withinShare: z.number().nullable(),
  /** Over every compared value (each output of each row). */
  absDiff: z.strictObject({ values: z.int().nonnegative(), mean: z.number(), p99: z.number(), max: z.number() }).nullable(),
  classifier: z.strictObject({ rows: z.int().nonnegative(), labelAgreement: z.number(), largestProbabilityShift: z.number() }).nullable(),
  latencyMs: z.strictObject({ live: LatencySummary.nullable(), candidate: LatencySummary.nullable() }),
  histogram: z.array(HistogramBin),
  /** The pairs that differ most (request id and largest absolute difference), for a closer look. */
  largest: z.array(z.strictObject({ requestId: z.string(), maxAbsDiff: z.number() })),
});
export type DiffReport = z.infer<typeof DiffReport>;

/** A report judged (or not) against criteria: what `deploy diff` prints and the gate decides on. */
export const DiffResult = z.strictObject({
  report: DiffReport,
  /** Why the report fails the criteria (empty when it passes or none was asked). */
  problems: z.array(z.string()),
  judged: z.boolean(),
  notes: z.array(z.string()),
});
export type DiffResult = z.infer<typeof DiffResult>;

/**
 * The latest prediction-diff report (`last-diff.json` in the state folder), written whole by
 * whatever made it: `deploy diff`, the prediction-diff gate of a switch or canary, the dashboard's
 * compare. The dashboard shows it without being asked. One report, replaced by the next.
 */
export const LastDiff = z.strictObject({
  /** When it was made (ISO). */
  time: z.string(),
  /** What made it, e.g. `deploy diff`, `prediction-diff gate of switch`. */
  by: z.string(),
  user: z.string(),
  result: DiffResult,
});
export type LastDiff = z.infer<typeof LastDiff>;
