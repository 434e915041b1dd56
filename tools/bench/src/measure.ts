import { type Endpoint, bodyOf } from './endpoints';
import { type LoadSource, failedCount } from './load';
import { cpuMicros, groupCpuMicros, withChildren } from './proc';
import type { CaseResult, RunMeasurement, System, Via } from './result';
import { pairedRatio, summarise } from './stats';

/** Where one side of a case sends its load, and which processes serve it (for CPU per request). */
export interface Target {
  readonly system: System;
  readonly via: Via;
  readonly url: string;
  readonly serverPid?: number;
  /** nginx's master pid, for nginx runs. */
  readonly proxyPid?: number;
}

export interface CasePlan {
  readonly endpoint: Endpoint;
  readonly via: Via;
  readonly connections: number;
  readonly service: Target;
  readonly baseline: Target | null;
}

export interface MeasureSettings {
  readonly durationSeconds: number;
  readonly repeats: number;
  readonly warmupSeconds: number;
  readonly progress: (line: string) => void;
  readonly checkAborted: () => void;
}

function perRequest(micros: number, requests: number): number | null {
  return requests > 0 ? Math.round((micros / requests) * 10) / 10 : null;
}

/** One load run on `target`, with the CPU its server and nginx spent per request. */
export async function measureRun(load: LoadSource, plan: CasePlan, target: Target, seconds: number): Promise<RunMeasurement> {
  const proxyPids = target.proxyPid === undefined ? [] : withChildren(target.proxyPid);
  const before = {
    server: target.serverPid === undefined ? undefined : cpuMicros(target.serverPid),
    proxy: groupCpuMicros(proxyPids),
  };
  const { result, cpuMicros: loadMicros } = await load.measure({
    url: `${target.url}${plan.endpoint.path}`,
    method: plan.endpoint.method,
    ...(plan.endpoint.method === 'POST' ? { body: bodyOf(plan.endpoint) } : {}),
    connections: plan.connections,
    durationSeconds: seconds,
  });
  const serverAfter = target.serverPid === undefined ? undefined : cpuMicros(target.serverPid);
  return {
    ...result,
    serverCpuUsPerRequest:
      before.server === undefined || serverAfter === undefined ? null : perRequest(serverAfter - before.server, result.requests),
    proxyCpuUsPerRequest: proxyPids.length === 0 ? null : perRequest(groupCpuMicros(proxyPids) - before.proxy, result.requests),
    loadCpuUsPerRequest: loadMicros === undefined ? null : perRequest(loadMicros, result.requests),
  };
}

function describe(plan: CasePlan): string {
  return `${plan.endpoint.label}, ${plan.via}, ${plan.connections} conn`;
}

function formatRun(target: Target, run: RunMeasurement): string {
  const failed = failedCount(run);
  return `${target.system.padEnd(8)} ${Math.round(run.requestsPerSecond).toLocaleString('en-US').padStart(7)} req/s  p99 ${run.latency.p99Ms.toFixed(2)} ms${failed ? `  FAILED ${failed}` : ''}`;
}

/**
 * One case: a warm-up on each side, then `repeats` runs per side, alternating which side goes first,
 * so each pair of runs is back to back and the machine's other load weighs on both alike.
 */
export async function measureCase(load: LoadSource, plan: CasePlan, settings: MeasureSettings): Promise<CaseResult> {
  const sides = [plan.service, ...(plan.baseline ? [plan.baseline] : [])];
  if (settings.warmupSeconds > 0) {
    for (const target of sides) {
      settings.checkAborted();
      await load.measure({
        url: `${target.url}${plan.endpoint.path}`,
        method: plan.endpoint.method,
        ...(plan.endpoint.method === 'POST' ? { body: bodyOf(plan.endpoint) } : {}),
        connections: plan.connections,
        durationSeconds: settings.warmupSeconds,
      });
    }
  }
  const runs: Record<System, RunMeasurement[]> = { service: [], baseline: [] };
  for (let round = 0; round < settings.repeats; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const target of order) {
      settings.checkAborted();
      const run = await measureRun(load, plan, target, settings.durationSeconds);
      runs[target.system].push(run);
      settings.progress(`  ${describe(plan)} [${round + 1}/${settings.repeats}] ${formatRun(target, run)}`);
    }
  }
  const service = summarise(runs.service);
  const baseline = plan.baseline ? summarise(runs.baseline) : null;
  const rows = plan.endpoint.rows;
  return {
    endpoint: plan.endpoint.name,
    label: plan.endpoint.label,
    rows,
    via: plan.via,
    connections: plan.connections,
    service,
    baseline,
    ratio: baseline ? pairedRatio(runs.service, runs.baseline, (run) => run.requestsPerSecond) : null,
    cpuRatio: baseline ? pairedRatio(runs.baseline, runs.service, (run) => run.serverCpuUsPerRequest) : null,
    servicePredictionsPerSecond: rows > 0 ? Math.round(service.requestsPerSecond * rows) : null,
    baselinePredictionsPerSecond: rows > 0 && baseline ? Math.round(baseline.requestsPerSecond * rows) : null,
  };
}
