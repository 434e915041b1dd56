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
  /** Healthy and desired replicas. */
  replicas?: { ready: number; desired: number };
  /** Each replica (local and Compose). */
  replicaList?: ReplicaStatus[];
}

/** One replica of a color: its process or container, what its supervisor says, its own health. */
export interface ReplicaStatus {
  replica: number;
  name: string;
  process: string;
  pid: number | null;
  phase: string | null;
  restarts: number | null;
  health: HealthView;
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
  /** canary: its colors, versions, steps and weight when the line was written, its analyses. */
  stable?: Color;
  canary?: Color;
  stableVersion?: string | null;
  canaryVersion?: string | null;
  steps?: number[];
  intervalMs?: number;
  weight?: number;
  intervals?: CanaryInterval[];
}

/** What one color served in one canary interval (commands/canary.ts, history.ts CanaryColorSample). */
export interface CanaryColorSample {
  color: Color;
  requests: number;
  errors: number;
  errorRate: number | null;
  p99Ms: number | null;
}

export interface CanaryInterval {
  weight: number;
  startedAt: string;
  durationMs: number;
  verdict: 'pass' | 'fail' | 'inconclusive';
  canary: CanaryColorSample;
  stable: CanaryColorSample;
  probesSent: number;
  checks: GateResult[];
}

/** The canary in progress as `deploy:status` shows it (commands/canary-status.ts CanaryView). */
export interface CanaryView {
  state: 'running' | 'interrupted';
  stable: Color;
  canary: Color;
  weight: number;
  steps: number[] | null;
  step: number | null;
  nextAnalysisInMs: number | null;
  lastAnalysis: CanaryInterval | null;
  pid: number | null;
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
  /** The canary in progress (the live route is split), or null. */
  canary?: CanaryView | null;
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
  /** The spec's canary steps and interval (the start form's defaults); null when the spec can not be read. */
  canaryDefaults: { steps: number[]; intervalSeconds: number } | null;
  stack: StackView;
  samples: Sample[];
  history: { entries: HistoryEntry[]; skippedLines: number[] };
  /** The latest prediction-diff report (libs/deploy/src/commands/last-diff.ts), or null. */
  diff: LastDiff | null;
}

/** The latest prediction-diff report and what made it: `deploy diff`, a switch's or canary's prediction-diff gate, the page's compare. */
export interface LastDiff {
  time: string;
  by: string;
  user: string;
  result: DiffResult;
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
