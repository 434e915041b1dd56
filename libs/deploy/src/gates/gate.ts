import type { Color, GateResult, HealthResponse, ModelSignature } from '@mlbg/contract';
import type { Clock, HttpAnswer, HttpCall } from '../effects/deps';

/** What one check found: the contract's, as the history and `--json` carry it. */
export { GateResult } from '@mlbg/contract';

/** How many checks, how far apart: a color must answer several times in a row, not once by luck. */
export interface SwitchTiming {
  readonly healthChecks: number;
  readonly healthIntervalMs: number;
  readonly verifyChecks: number;
  readonly verifyIntervalMs: number;
}
export const DEFAULT_SWITCH_TIMING: SwitchTiming = { healthChecks: 3, healthIntervalMs: 200, verifyChecks: 3, verifyIntervalMs: 100 };

/** A version the target must answer with, and why (for the refusal message). */
export interface ExpectedVersion {
  readonly version: string;
  readonly why: string;
}

/** What a backend knows about a color from when it was started, for when the color itself does not answer. */
export interface RecordedColor {
  readonly version?: string;
  readonly featureCount?: number;
  readonly signature?: ModelSignature;
}

/** Direct access to each color, not through nginx (its own socket: the path nginx takes). */
export interface ColorAccess {
  health(color: Color): Promise<HttpAnswer>;
  predict(color: Color, body: string): Promise<HttpAnswer>;
  recorded(color: Color): RecordedColor | undefined;
  /**
   * Any request to the color's own socket or port (its admin routes, replayed bodies with their
   * request ids); with `instance`, to that one process of the color (as {@link instances} names it).
   * Absent where the backend can not reach a color directly yet.
   */
  request?(color: Color, call: HttpCall, instance?: string): Promise<HttpAnswer>;
  /**
   * The processes of a color that each keep their own prediction records (a pod each on
   * Kubernetes, a replica each on the local stack), by name; absent where a color is one process, which `request` reaches.
   */
  instances?(color: Color): Promise<readonly string[]>;
  /**
   * Each replica of a color, reachable on its own (its own socket); absent, or one replica, where a
   * color is one process (or the backend reaches it as a whole). The preflight runs on each.
   */
  replicas?(color: Color): readonly ReplicaAccess[];
}

/** One replica of a color, directly. */
export interface ReplicaAccess {
  /** How people know it: its process or container name (`blue-2`, `ml-service-blue-2`). */
  readonly name: string;
  health(): Promise<HttpAnswer>;
  predict(body: string): Promise<HttpAnswer>;
  request?(call: HttpCall): Promise<HttpAnswer>;
}

/** How many of the target color's replicas must pass the preflight: all of them, or at least this many. */
export type ReplicaQuorum = 'all' | number;

/** Everything a preflight gate may look at. `facts` is filled by earlier gates for later ones. */
export interface GateContext {
  readonly from: Color;
  readonly to: Color;
  readonly colors: ColorAccess;
  readonly clock: Clock;
  readonly timing: SwitchTiming;
  readonly expectedVersion?: ExpectedVersion;
  readonly facts: GateFacts;
}

/** Facts established by earlier gates: the target's last healthy /health, the live color's. */
export interface GateFacts {
  target?: HealthResponse;
  live?: HealthResponse;
}

/** One check before (or during) a change of routes. A new gate is one file and one line in `gates/index.ts`. */
export interface Gate {
  readonly name: string;
  /**
   * `replica` (the default): run on each replica of the target on its own; `color`: once, on the
   * color as a whole (e.g. a comparison of answers spread over its replicas).
   */
  readonly scope?: 'replica' | 'color';
  run(context: GateContext): Promise<GateResult>;
}

/** A passing result. */
export function passed(name: string, observed: string, expected: string): GateResult {
  return { name, ok: true, observed, expected };
}

/** A failing result with what to do. */
export function failed(name: string, observed: string, expected: string, hint: string): GateResult {
  return { name, ok: false, observed, expected, hint };
}
