import { Color } from '@mlbg/contract';
import { z } from 'zod';
import { CanaryInterval } from '../../history/history';

/**
 * What a running canary writes beside the history while it runs (`canary.json` in the state
 * folder), so `deploy:status` in another terminal can show its step, the time to the next step and
 * the last analysis. Removed when the canary ends; left behind by a kill -9.
 */
export const CanaryRun = z.strictObject({
  pid: z.int(),
  stable: Color,
  canary: Color,
  steps: z.array(z.int()),
  weight: z.int().min(0).max(100),
  /** 1-based position of `weight` in `steps` (a resumed run's first weight may not be one of them). */
  step: z.int().min(1),
  intervalMs: z.number().positive(),
  /** When the running interval's analysis is due (ISO time). */
  analysisAt: z.string(),
  lastAnalysis: CanaryInterval.nullable(),
});
export type CanaryRun = z.infer<typeof CanaryRun>;
