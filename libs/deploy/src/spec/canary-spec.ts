import { z } from 'zod';
import { DEFAULT_LIVE_SLOTS } from './sockets';

/** `deploy:canary`'s defaults: the weights it moves through and how long each holds before its analysis. */
export const DEFAULT_CANARY_STEPS = [5, 25, 50, 100] as const;
export const DEFAULT_CANARY_INTERVAL_SECONDS = 30;
/**
 * The analysis' defaults (the judge, gates/judge/). An interval passes only with at least
 * `minRequests` answers from each color; it fails when the canary's 5xx share is significantly
 * above `maxErrorRate` or above the stable's by more than `maxErrorRateAboveStable`, when it is
 * significantly slower than the stable color by more than `maxMedianRatio` (or `medianFloorMs`),
 * when significantly more than 1% of its answers take longer than `maxP99Ms`, or when its answers
 * differ (`DEFAULT_OUTPUT_ANALYSIS`).
 */
export const DEFAULT_CANARY_ANALYSIS = {
  // 100, so a p99 is not simply the slowest answer of the interval.
  minRequests: 100,
  maxErrorRate: 0.01,
  maxErrorRateAboveStable: 0.005,
  maxP99Ms: 500,
  // Two failed intervals in a row: on a busy machine the p99 of a few dozen requests is noisy, and
  // one noisy interval should hold the step, not roll it back (Flagger's threshold counts failed checks too).
  failureLimit: 2,
  maxInconclusive: 10,
  /**
   * The judge: the chance that a canary as good as the stable color fails an interval (Holm over
   * the interval's checks). Its medians may differ by this ratio or this many ms, whichever is larger.
   */
  falseAlarmRate: 0.01,
  maxMedianRatio: 1.5,
  medianFloorMs: 5,
  // Never a pass: a canary that stays unjudgeable is rolled back (or held at its weight, with "hold").
  onInconclusive: 'rollback',
} as const;

/**
 * The checks of the model's answers (on by default). 400 answer rows per color: on the bodies of
 * deploy/canary-samples.json the judge then fails v1.0.0 -> v1.1.0's change in over 99% of
 * intervals (the simulation spec, gates/judge/simulation.spec.ts). A PSI above 0.1 is the usual
 * "moderate shift"; 0.05 of one label's share or one class's mean probability is a change a
 * person would notice.
 */
export const DEFAULT_OUTPUT_ANALYSIS = {
  enabled: true,
  minOutputs: 400,
  maxPsi: 0.1,
  maxLabelShift: 0.05,
  maxProbabilityShift: 0.05,
} as const;
export const DEFAULT_PROBE_RATE_PER_SECOND = 20;

const Percent = z.int().min(1).max(100);
const Ratio = z.number().min(0).max(1);

/** Request bodies for probe requests, e.g. `[{"features": [[1]]}, ...]`. */
export const ProbeSamples = z.array(z.record(z.string(), z.unknown())).min(1, 'must hold at least one /predict request body');
export type ProbeSamples = z.infer<typeof ProbeSamples>;

export const CanarySpec = z
  .strictObject({
    /** Slot sockets of the live route: a weight is a multiple of 100/slots. Must divide 100. */
    slots: z
      .int()
      .min(2)
      .max(100)
      .refine((slots) => 100 % slots === 0, 'must divide 100 (2, 4, 5, 10, 20, 25, 50 or 100), so every slot carries a whole percent')
      .default(DEFAULT_LIVE_SLOTS),
    /** The canary's weights, rising, ending at 100 (the promotion). */
    steps: z
      .array(Percent)
      .min(1)
      .refine((steps) => steps.every((step, index) => index === 0 || step > (steps[index - 1] ?? 0)), 'must rise step by step')
      .refine((steps) => steps.at(-1) === 100, 'must end at 100 (the promotion)')
      .default([...DEFAULT_CANARY_STEPS]),
    intervalSeconds: z.number().min(1).max(3600).default(DEFAULT_CANARY_INTERVAL_SECONDS),
    analysis: z
      .strictObject({
        minRequests: z.int().min(1).default(DEFAULT_CANARY_ANALYSIS.minRequests),
        maxErrorRate: Ratio.default(DEFAULT_CANARY_ANALYSIS.maxErrorRate),
        maxErrorRateAboveStable: Ratio.default(DEFAULT_CANARY_ANALYSIS.maxErrorRateAboveStable),
        maxP99Ms: z.number().positive().default(DEFAULT_CANARY_ANALYSIS.maxP99Ms),
        // Replaced by the judge's Mann-Whitney test with maxMedianRatio / medianFloorMs: said so, not ignored.
        maxP99Ratio: z
          .never({ error: 'was replaced by maxMedianRatio (the judge compares the latencies of both colors); remove it' })
          .optional(),
        p99RatioFloorMs: z.never({ error: 'was replaced by medianFloorMs; remove it' }).optional(),
        /** Consecutive failed intervals that roll the canary back. */
        failureLimit: z.int().min(1).default(DEFAULT_CANARY_ANALYSIS.failureLimit),
        /** Consecutive intervals with too little traffic before the canary is rolled back as unjudgeable. */
        maxInconclusive: z.int().min(1).default(DEFAULT_CANARY_ANALYSIS.maxInconclusive),
        /** The family-wise false-alarm rate of one interval's checks. */
        falseAlarmRate: z.number().gt(0).max(0.2).default(DEFAULT_CANARY_ANALYSIS.falseAlarmRate),
        maxMedianRatio: z.number().min(1).default(DEFAULT_CANARY_ANALYSIS.maxMedianRatio),
        medianFloorMs: z.number().min(0).default(DEFAULT_CANARY_ANALYSIS.medianFloorMs),
        /** What an interval that stays inconclusive at its bound does: roll the canary back, or hold its weight (and say so in status). */
        onInconclusive: z.enum(['rollback', 'hold']).default(DEFAULT_CANARY_ANALYSIS.onInconclusive),
        /** The checks of the model's answers; `enabled: false` judges errors and latency only. */
        outputs: z
          .strictObject({
            enabled: z.boolean().default(DEFAULT_OUTPUT_ANALYSIS.enabled),
            minOutputs: z.int().min(1).default(DEFAULT_OUTPUT_ANALYSIS.minOutputs),
            maxPsi: z.number().min(0).default(DEFAULT_OUTPUT_ANALYSIS.maxPsi),
            maxLabelShift: Ratio.default(DEFAULT_OUTPUT_ANALYSIS.maxLabelShift),
            maxProbabilityShift: Ratio.default(DEFAULT_OUTPUT_ANALYSIS.maxProbabilityShift),
          })
          .prefault({}),
      })
      .prefault({}),
    /**
     * What to do when an interval has too little traffic (never a pass): `probe` sends requests
     * from `probes.samples` (a JSON file of /predict bodies, relative to the workspace root)
     * through nginx; `wait` holds the step until real traffic comes.
     */
    lowTraffic: z.enum(['probe', 'wait']).default('wait'),
    probes: z
      .strictObject({
        samples: z
          .string()
          .regex(/^(?!\/)[\w./-]+\.json$/, 'must be a relative path to a .json file, e.g. "deploy/canary-samples.json"')
          .optional(),
        ratePerSecond: z.int().min(1).max(1000).default(DEFAULT_PROBE_RATE_PER_SECOND),
      })
      .prefault({}),
    /**
     * Sticky assignment: requests with this header (or cookie) are hashed over the slots, so one
     * client keeps its color while the weight holds; a request without it is spread as usual.
     * `canaryValues` always reach the canary color (for testers).
     */
    sticky: z
      .strictObject({
        header: z
          .string()
          .regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name, e.g. "X-User-Id"')
          .optional(),
        cookie: z
          .string()
          .regex(/^[A-Za-z0-9_]+$/, 'must be a cookie name of letters, digits and "_"')
          .optional(),
        canaryValues: z.array(z.string().regex(/^[A-Za-z0-9_.@-]+$/, 'must be letters, digits or "_.@-"')).default([]),
      })
      .refine((sticky) => !(sticky.header && sticky.cookie), 'name a header or a cookie, not both')
      .refine(
        (sticky) => sticky.canaryValues.length === 0 || sticky.header || sticky.cookie,
        'canaryValues need a header or a cookie to read them from',
      )
      .optional(),
  })
  .refine((canary) => 100 % canary.slots !== 0 || canary.steps.every((step) => step % (100 / canary.slots) === 0), {
    message: "every step must be a multiple of one slot's share (100 / slots)",
    path: ['steps'],
  })
  .refine((canary) => canary.lowTraffic !== 'probe' || canary.probes.samples !== undefined, {
    message: 'lowTraffic "probe" needs probes.samples (a JSON file of /predict bodies)',
    path: ['probes', 'samples'],
  })
  .prefault({});
export type CanarySpec = z.infer<typeof CanarySpec>;
