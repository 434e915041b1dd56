/**
 * What the dashboard's server sends (libs/deploy/src/dashboard: feed.ts, server.ts, actions.ts),
 * as far as the page reads it. The page imports nothing of the deploy library (apps depend on the
 * contract only), so these are the fields it uses, checked end to end by the e2e specs.
 */
export type Color = 'blue' | 'green';
export const COLORS: readonly Color[] = ['blue', 'green'];

export interface Weights {
  blue: number;
  green: number;
}

export interface HealthView {
  ok: boolean;
  httpStatus: number | null;
  status: string | null;
  version: string | null;
  featureCount: number | null;
  error?: string;
}

export interface ColorStatus {
  color: Color;
  role: 'live' | 'preview' | null;
  process: string;
  pid: number | null;
  container?: string;
  port: number | null;
  url: string | null;
  model: string | null;
  health: HealthView;
  /** Where the backend counts them (the local supervisor, Compose). */
  restarts?: number;
}

export interface GateResult {
  name: string;
  ok: boolean;
  observed?: unknown;
  expected?: unknown;
  hint?: string;
}

export interface HistoryEntry {
  command: string;
  time: string;
  user: string;
  backend: string;
  durationMs: number;
  outcome: string;
  reason?: string;
  gates: GateResult[];
  from?: Color;
  to?: Color;
  fromVersion?: string | null;
  toVersion?: string | null;
  color?: Color | null;
  model?: string;
  version?: string | null;
  routes?: Record<string, Weights>;
  /** shadow: the share mirrored. */
  percent?: number | null;
}

export interface ShadowStatus {
  on: boolean;
  percent: number | null;
  relay: { received: number; forwarded: number; dropped: number; failed: number } | null;
  notes: string[];
}

export interface StatusResult {
  backend: string;
  where: string;
  stack: string;
  healthy: boolean;
  routes: Record<string, Weights> | null;
  live: Color | null;
  preview: Color | null;
  router: { url: string; previewUrl: string; process: string; serving: HealthView; previewServing: HealthView } | null;
  colors: Record<Color, ColorStatus> | null;
  notes: string[];
  lastSwitch: HistoryEntry | null;
  /** Where the backend has shadow traffic (the local stack). */
  shadow?: ShadowStatus;
}

export interface ColorDetail {
  version: string;
  sha256: string;
  featureCount: number;
  uptimeSeconds: number;
  signature: { inputs?: unknown; outputs?: unknown; task?: string; classes?: unknown } | null;
}

export interface StackView {
  checkedAt: string;
  status: StatusResult | null;
  details: Record<Color, ColorDetail | null>;
  error: string | null;
}

export interface TrafficPoint {
  rps: number;
  errorShare: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface Sample {
  t: number;
  blue: TrafficPoint | null;
  green: TrafficPoint | null;
  router: TrafficPoint | null;
}

export interface Snapshot {
  backend: string;
  readOnly: boolean;
  user: string;
  actions: string[];
  stack: StackView;
  samples: Sample[];
  history: { entries: HistoryEntry[]; skippedLines: number[] };
}

export interface ActionOutcome {
  ok: boolean;
  result: unknown;
  error?: { code: string; message: string; hint: string };
}

export interface ActionEvent {
  phase: 'started' | 'finished';
  name: string;
  request: Record<string, unknown>;
  user: string;
  outcome?: ActionOutcome;
}

export interface DiffResult {
  report: {
    source: 'shadow' | 'replay';
    live: { color: Color; version: string | null };
    candidate: { color: Color; version: string | null };
    tolerance: { absolute: number; relative: number };
    pairs: number;
    unpaired: { live: number; candidate: number };
    withinTolerance: number;
    withinShare: number | null;
    absDiff: { values: number; mean: number; p99: number; max: number } | null;
    latencyMs: { live: { mean: number; p50: number; p99: number } | null; candidate: { mean: number; p50: number; p99: number } | null };
    histogram: { from: number; to: number; count: number }[];
  };
  problems: string[];
  judged: boolean;
  notes: string[];
}
