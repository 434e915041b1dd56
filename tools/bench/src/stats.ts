import { allSucceeded } from './load';
import type { Failures, RunMeasurement, SideSummary } from './result';

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function present(values: readonly (number | null)[]): number[] {
  return values.filter((value): value is number => value !== null);
}

export function summarise(runs: readonly RunMeasurement[]): SideSummary {
  const failures: Failures = {
    non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    timeouts: runs.reduce((sum, run) => sum + run.timeouts, 0),
    resets: runs.reduce((sum, run) => sum + run.resets, 0),
  };
  return {
    requestsPerSecond: median(runs.map((run) => run.requestsPerSecond)) ?? 0,
    latencyP50Ms: median(runs.map((run) => run.latency.p50Ms)) ?? 0,
    latencyP99Ms: median(runs.map((run) => run.latency.p99Ms)) ?? 0,
    latencyP99MaxMs: Math.max(0, ...runs.map((run) => run.latency.p99Ms)),
    serverCpuUsPerRequest: median(present(runs.map((run) => run.serverCpuUsPerRequest))),
    proxyCpuUsPerRequest: median(present(runs.map((run) => run.proxyCpuUsPerRequest))),
    loadCpuUsPerRequest: median(present(runs.map((run) => run.loadCpuUsPerRequest))),
    requests: runs.reduce((sum, run) => sum + run.requests, 0),
    failures,
    runs,
  };
}

/** The median of service/baseline over runs made back to back (run i of each side). */
export function pairedRatio(
  service: readonly RunMeasurement[],
  baseline: readonly RunMeasurement[],
  of: (run: RunMeasurement) => number | null,
): number | null {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(service.length, baseline.length); i++) {
    const [mine, theirs] = [of(service[i]), of(baseline[i])];
    if (mine !== null && theirs !== null && theirs > 0) ratios.push(mine / theirs);
  }
  return median(ratios);
}

export function sideSucceeded(side: SideSummary): boolean {
  return side.runs.every((run) => allSucceeded(run));
}
