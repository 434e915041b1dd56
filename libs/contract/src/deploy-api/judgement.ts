import { z } from 'zod';
import { Color } from '../color';

/**
 * What the canary judge (libs/deploy/src/gates/judge) says, check by check and for the interval: each check's test, statistic,
 * p-value, effect and the sample sizes it had, so a verdict is never a bare word. These shapes
 * go to `--json`, the history, the status and the dashboard as they are.
 */

/** `pass`, `fail`, or `inconclusive` (too little data: never a pass). */
export const Verdict = z.enum(['pass', 'fail', 'inconclusive']);
export type Verdict = z.infer<typeof Verdict>;

/** A check's verdict; `waived`: measured and shown, not counted (the user declared an output change). */
export const CheckVerdict = z.enum(['pass', 'fail', 'inconclusive', 'waived']);
export type CheckVerdict = z.infer<typeof CheckVerdict>;

/** What a check looks at: the infrastructure (errors, latency) or the model's answers. */
export const Aspect = z.enum(['errors', 'latency', 'outputs']);
export type Aspect = z.infer<typeof Aspect>;

/** How large a difference is, beside how sure: a check fails only when both are past their limits. */
export const Effect = z.strictObject({
  name: z.string(),
  /** null when it can not be computed (e.g. a ratio over a stable median of 0 ms). */
  value: z.number().nullable(),
  limit: z.number(),
  exceeded: z.boolean(),
});
export type Effect = z.infer<typeof Effect>;

export const JudgedCheck = z.strictObject({
  name: z.string(),
  aspect: Aspect,
  /** Output checks: judged on both colors' answers to live traffic, or on their answers to the same requests. */
  basis: z.enum(['live', 'paired']).optional(),
  /** The test, e.g. "Fisher's exact test, one-sided". */
  test: z.string(),
  statistic: z.number().nullable(),
  /** null when the test was not run (fewer samples than its approximation needs). */
  pValue: z.number().nullable(),
  /** The p-value after Holm's adjustment over the interval's family of checks. */
  adjustedP: z.number().nullable(),
  /** The family's false-alarm rate: a check is significant when its adjusted p-value is at most this. */
  alpha: z.number(),
  effect: Effect.nullable(),
  samples: z.strictObject({ canary: z.int(), stable: z.int().nullable(), minimum: z.int() }),
  verdict: CheckVerdict,
  observed: z.string(),
  expected: z.string(),
  hint: z.string().optional(),
});
export type JudgedCheck = z.infer<typeof JudgedCheck>;

/** The two colors' output values in the same bins (regression), or their answers per label (classifier). */
export const OutputHistogram = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('values'),
    /** Bin i holds values in [edges[i], edges[i + 1]); the last bin includes its upper edge. */
    edges: z.array(z.number()),
    canary: z.array(z.int()),
    stable: z.array(z.int()),
  }),
  z.strictObject({ kind: z.literal('labels'), labels: z.array(z.string()), canary: z.array(z.int()), stable: z.array(z.int()) }),
]);
export type OutputHistogram = z.infer<typeof OutputHistogram>;

export const Judgement = z.strictObject({
  verdict: Verdict,
  /** The family-wise false-alarm rate of this interval (Holm over its counted checks). */
  falseAlarmRate: z.number(),
  checks: z.array(JudgedCheck),
  histogram: OutputHistogram.nullable(),
  /** Why the verdict is what it is, in a few words per reason (e.g. which aspect had too little data). */
  reasons: z.array(z.string()),
});
export type Judgement = z.infer<typeof Judgement>;

/**
 * `deploy:judge --json`: the canary against the stable color on one window, judged as a canary's
 * interval is. `source` says which window: `window`, live traffic that already happened (nginx's
 * log and the colors' kept records of it); `sent`, the same bodies the judge sent to both colors
 * itself (e.g. a Job of Argo Rollouts against the preview and the active Service). The command's
 * exit status is the verdict: 0 pass, 1 fail, 3 inconclusive.
 */
export const JudgeResult = z.strictObject({
  source: z.enum(['window', 'sent']),
  since: z.string(),
  until: z.string(),
  canary: Color,
  stable: Color,
  canaryVersion: z.string().nullable(),
  stableVersion: z.string().nullable(),
  /** Where each color was asked when the judge sent the requests (the URLs given, or live and idle); null for a window. */
  where: z.strictObject({ blue: z.string(), green: z.string() }).nullable(),
  /** Requests the judge sent to each color; null for a window. */
  requests: z.int().nonnegative().nullable(),
  judgement: Judgement,
});
export type JudgeResult = z.infer<typeof JudgeResult>;
