import { z } from 'zod';
import { Color } from '../color';
import { DiffReport } from './diff';
import { GateResult } from './gate-result';
import { CanaryColorSample } from './history';

/** A verdict: `inconclusive` is too little data, never a pass. */
export const JudgeVerdict = z.enum(['pass', 'fail', 'inconclusive']);
export type JudgeVerdict = z.infer<typeof JudgeVerdict>;

/**
 * `deploy judge --json`'s result: the canary against the stable color on the same requests, with
 * each color's numbers, the analysis' checks, the diff of their answers, and why the verdict is
 * what it is. The exit status is the verdict (0 pass, 1 fail, 3 inconclusive).
 */
export const JudgeResult = z.strictObject({
  verdict: JudgeVerdict,
  stable: Color,
  canary: Color,
  /** Where each color was asked (the URLs given, or the backend's live and idle color). */
  where: z.strictObject({ blue: z.string(), green: z.string() }),
  /** Requests sent to each color. */
  requests: z.int().nonnegative(),
  analysis: z.strictObject({
    verdict: JudgeVerdict,
    canary: CanaryColorSample,
    stable: CanaryColorSample,
    checks: z.array(GateResult),
  }),
  diff: DiffReport,
  /** Why the answers fail the diff's criteria (empty: they meet them). */
  diffProblems: z.array(z.string()),
  reasons: z.array(z.string()),
  durationMs: z.number().nonnegative(),
});
export type JudgeResult = z.infer<typeof JudgeResult>;
