import { z } from 'zod';
import { Color } from '../color';
import { GateResult } from './gate-result';
import { CanaryInterval, CanaryOutcome } from './history';
import { Routes } from './routes';

/** What `deploy:status` says about a canary in progress. */
export const CanaryView = z.strictObject({
  /** `running`: a canary command holds the lock now; `interrupted`: the weight is split and nothing runs it (killed, or stopped with --keep). */
  state: z.enum(['running', 'interrupted']),
  stable: Color,
  canary: Color,
  weight: z.int().min(0).max(100),
  steps: z.array(z.int()).nullable(),
  /** 1-based, when the running canary said so. */
  step: z.int().nullable(),
  /** Until the running interval's analysis (ms, at the time of the status). */
  nextAnalysisInMs: z.number().nullable(),
  lastAnalysis: CanaryInterval.nullable(),
  pid: z.int().nullable(),
});
export type CanaryView = z.infer<typeof CanaryView>;

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

/** How a canary command ended (`deploy:canary`, `--resume`, `--abort`, `deploy:promote`); `noop`: nothing to do. */
export const CanaryResult = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('noop'), note: z.string() }),
  z.strictObject({
    kind: CanaryOutcome.exclude(['started']),
    stable: Color,
    canary: Color,
    stableVersion: z.string().nullable(),
    canaryVersion: z.string().nullable(),
    weight: z.int().min(0).max(100),
    routes: Routes,
    intervals: z.array(CanaryInterval),
    gates: z.array(GateResult),
    reason: z.string().optional(),
    note: z.string().optional(),
  }),
]);
export type CanaryResult = z.infer<typeof CanaryResult>;

/** A canary the dashboard started as its own `deploy canary` process, once its first step is on. */
export const CanaryLaunch = z.strictObject({
  kind: z.literal('started'),
  pid: z.int(),
  stable: Color,
  canary: Color,
  weight: z.int().min(0).max(100),
  step: z.int().min(1),
  steps: z.array(z.int()),
  /** The canary process's log (progress lines). */
  log: z.string(),
});
export type CanaryLaunch = z.infer<typeof CanaryLaunch>;
