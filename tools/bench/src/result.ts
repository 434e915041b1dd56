import type { EndpointName } from './endpoints';
import type { LoadResult } from './load';
import type { MachineInfo } from './machine';
import type { BenchOptions } from './options';

export type System = 'service' | 'baseline';
export type Via = 'direct' | 'nginx';

/** One load run on one side, with the CPU its server (and nginx) spent per request. */
export interface RunMeasurement extends LoadResult {
  /** CPU time of the server process per request, in µs (null when its pid is unknown). */
  readonly serverCpuUsPerRequest: number | null;
  /** CPU time of nginx (master + workers) per request, in µs (null for direct runs). */
  readonly proxyCpuUsPerRequest: number | null;
  /** CPU time of the load generator (autocannon) per request, in µs. */
  readonly loadCpuUsPerRequest: number | null;
}

export interface Failures {
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly resets: number;
}

/** One side of a case: medians over its runs. */
export interface SideSummary {
  readonly requestsPerSecond: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  /** The worst run's p99. */
  readonly latencyP99MaxMs: number;
  readonly serverCpuUsPerRequest: number | null;
  readonly proxyCpuUsPerRequest: number | null;
  readonly loadCpuUsPerRequest: number | null;
  readonly requests: number;
  readonly failures: Failures;
  readonly runs: readonly RunMeasurement[];
}

/** One endpoint, at one connection count, direct or through nginx: the service next to the baseline. */
export interface CaseResult {
  readonly endpoint: EndpointName;
  readonly label: string;
  readonly rows: number;
  readonly via: Via;
  readonly connections: number;
  readonly service: SideSummary;
  readonly baseline: SideSummary | null;
  /**
   * Service req/s as a fraction of the baseline's: the median over the pairs of runs made back to
   * back (so a machine that gets busier or quieter during the run weighs on both alike).
   */
  readonly ratio: number | null;
  /** Baseline CPU per request over the service's (1 = as cheap as the bare server); server process only. */
  readonly cpuRatio: number | null;
  readonly servicePredictionsPerSecond: number | null;
  readonly baselinePredictionsPerSecond: number | null;
}

/** 3-row /predict: the color directly, through nginx with keepalive, through the same stack's nginx without it. */
export interface RouterComparison {
  /** The load generator of these runs: `autocannon` (as every other case) or `wrk` (lighter, see wrk.ts). */
  readonly generator: string;
  readonly label: string;
  readonly connections: number;
  readonly direct: SideSummary;
  readonly keepalive: SideSummary;
  readonly noKeepalive: SideSummary;
  readonly keepaliveVsNoKeepalive: number | null;
  readonly keepaliveVsDirect: number | null;
  readonly p99VsNoKeepalive: number | null;
}

export interface SwitchRecord {
  readonly index: number;
  readonly from: string | null;
  readonly to: string | null;
  readonly ok: boolean;
  /** From the command's start until the command returned (preflight, flip, verify, history). */
  readonly commandMs: number;
  /** From the command's start until nginx first answered /health from the new color. */
  readonly servedAfterMs: number | null;
  readonly error?: string;
}

export interface SwitchUnderLoad {
  readonly switches: number;
  readonly connections: number;
  readonly load: LoadResult;
  /** Requests that did not get a 2xx: non-2xx answers, socket errors, timeouts, resets. */
  readonly failedRequests: number;
  /** Answers of the /health poller that watched nginx during the switches. */
  readonly pollerRequests: number;
  readonly pollerFailures: number;
  readonly records: readonly SwitchRecord[];
  readonly servedAfterMs: { readonly p50: number | null; readonly max: number | null };
  readonly commandMs: { readonly p50: number | null; readonly max: number | null };
}

export interface ProcessMemory {
  readonly name: string;
  readonly pids: readonly number[];
  readonly rssMb: number | null;
}

export interface MemorySnapshot {
  /** `peak under load`: the largest RSS sampled (every 0.5 s) while the cases and switches ran. */
  readonly label: 'idle' | 'peak under load' | 'after load' | 'settled';
  readonly processes: readonly ProcessMemory[];
}

export interface TargetCheck {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  /** null when the run did not measure it (e.g. --quick without 1 connection, or no stack to switch). */
  readonly met: boolean | null;
}

/** Everything a run measured: what `--json` prints and the results files hold. */
export interface BenchResult {
  readonly schema: 1;
  readonly machine: MachineInfo;
  readonly options: Omit<BenchOptions, 'json' | 'help' | 'out' | 'reference' | 'render'>;
  readonly durationSeconds: number;
  readonly stack: {
    readonly started: boolean;
    readonly live: string | null;
    readonly serviceModel: string | null;
    readonly baselineModel: string;
  };
  readonly cases: readonly CaseResult[];
  readonly switchUnderLoad: SwitchUnderLoad | null;
  /** Null when the bench measured no stack of its own or attached (bare URLs). */
  /** One comparison per load generator (autocannon, and wrk when installed); empty when not measured. */
  readonly routers: readonly RouterComparison[];
  readonly memory: readonly MemorySnapshot[];
  readonly targets: readonly TargetCheck[];
  /** Every request of every run (and of the switches) got a 2xx. */
  readonly allSucceeded: boolean;
  /** What did not succeed, one line each. */
  readonly failures: readonly string[];
}
