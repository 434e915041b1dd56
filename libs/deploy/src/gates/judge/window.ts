import type { ClassLabel, Color } from '@mlbg/contract';
import type { LatencyBuckets } from '../analysis/served';
import type { PredictionPair } from '../prediction-diff-report';

/**
 * What the judge reads of one interval, the same on every backend (the backends differ in where
 * it comes from: nginx's access log and the colors' /admin/predictions locally, other sources
 * elsewhere).
 */

/** One request a color served, as the client saw it: the status and the time it waited. */
export interface Served {
  readonly status: number;
  readonly ms: number;
}

/** A color's answer to one live request: rows of numbers (a classifier's probabilities), and a classifier's labels. */
export interface Answer {
  readonly outputs: readonly (readonly number[])[];
  readonly labels?: readonly ClassLabel[];
}

export interface ColorWindow {
  readonly color: Color;
  /** Every request the color served in the window (nginx's own 502/504 for it included); empty where only counts exist. */
  readonly served: readonly Served[];
  /**
   * Where no router logs each request (Kubernetes: the colors' own histograms in Prometheus): the
   * counts and the latencies of the answers that were not 5xx, in buckets. The error checks are as
   * exact as with each request; the latency checks work on buckets (see `checks/served.ts`).
   */
  readonly counted?: CountedTraffic;
  /**
   * Its answers to live traffic in the window: neither probes, shadow copies nor replays, so both
   * colors' answers come from the same split of the same traffic.
   */
  readonly answers: readonly Answer[];
}

export interface JudgeWindow {
  readonly canary: ColorWindow;
  readonly stable: ColorWindow;
  /** Both colors' answers to the same requests (shadow copies, replays) in the window; empty when there are none. */
  readonly pairs: readonly PredictionPair[];
}

/** A color's traffic over a window as counters and a histogram only. */
export interface CountedTraffic {
  readonly requests: number;
  readonly errors: number;
  readonly latency: LatencyBuckets;
}
