import { DEPLOYMENT_SPEC_PATH, DeploymentSpec, loadDeploymentSpec, localNginxSite, renderNginxConf } from '@mlbg/deploy';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild, stopChild, tail } from './child';
import { ENDPOINTS } from './endpoints';
import { waitUntilOk } from './http-probe';
import type { LoadSource } from './load';
import { type MeasureSettings, type Target, measureRun } from './measure';
import type { RouterComparison, RunMeasurement, TargetCheck } from './result';
import { pairedRatio, summarise } from './stats';

const START_TIMEOUT_MS = 30_000;
/** The issue's targets for the router with upstream keepalive, against the same stack without it, in one run. */
export const ROUTER_TARGETS = { vsNoKeepalive: 2.5, vsDirect: 0.9, p99VsNoKeepalive: 0.5, connections: 32 } as const;
const ENDPOINT = ENDPOINTS['predict-3'];

/** A second nginx on the same stack's sockets, rendered from the same spec with `proxy.upstreamKeepalive: false`. */
export interface NoKeepaliveRouter {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startNoKeepaliveRouter(options: {
  readonly workspaceRoot: string;
  readonly nginx: string;
  readonly socketDir: string;
  readonly port: number;
}): Promise<NoKeepaliveRouter> {
  const loaded = loadDeploymentSpec(join(options.workspaceRoot, DEPLOYMENT_SPEC_PATH));
  const spec = DeploymentSpec.parse({ ...loaded, proxy: { ...loaded.proxy, upstreamKeepalive: false } });
  const prefix = mkdtempSync(join(tmpdir(), 'mlbg-bench-no-keepalive-'));
  chmodSync(prefix, 0o755);
  writeFileSync(
    join(prefix, 'nginx.conf'),
    renderNginxConf(spec, localNginxSite(spec, { socketDir: options.socketDir, port: options.port })),
  );
  const args = ['-p', `${prefix}/`, '-c', 'nginx.conf'];
  const check = spawnSync(options.nginx, ['-t', ...args], { encoding: 'utf8' });
  if (check.status !== 0) {
    rmSync(prefix, { recursive: true, force: true });
    throw new Error(`nginx -t refused the no-keepalive config:\n${check.stderr}`);
  }
  const child = startChild('nginx without keepalive', options.nginx, [...args, '-g', 'daemon off;'], {
    cwd: prefix,
    env: process.env,
    logFile: join(prefix, 'nginx.log'),
  });
  const stop = async () => {
    await stopChild(child, 'SIGQUIT');
    rmSync(prefix, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${options.port}`;
  try {
    await waitUntilOk(`${url}/health`, START_TIMEOUT_MS);
  } catch (error) {
    const said = tail(child);
    await stop();
    throw new Error(`${(error as Error).message}\nnginx said:\n${said}`);
  }
  return { url, pid: child.pid, stop };
}

/**
 * 3-row /predict at 32 connections: the live color directly, through the stack's nginx (keepalive)
 * and through the same stack's nginx without keepalive, the three alternating run by run so the
 * machine's other load weighs on all alike. Ratios are medians of the runs made back to back.
 */
export async function compareRouters(
  load: LoadSource,
  targets: { readonly direct: Target; readonly keepalive: Target; readonly noKeepalive: Target },
  settings: MeasureSettings,
): Promise<RouterComparison> {
  const plan = {
    endpoint: ENDPOINT,
    via: 'nginx' as const,
    connections: ROUTER_TARGETS.connections,
    service: targets.keepalive,
    baseline: null,
  };
  const sides = ['direct', 'keepalive', 'noKeepalive'] as const;
  const runs: Record<(typeof sides)[number], RunMeasurement[]> = { direct: [], keepalive: [], noKeepalive: [] };
  for (let round = 0; round < settings.repeats; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      settings.checkAborted();
      const run = await measureRun(load, plan, targets[side], settings.durationSeconds);
      runs[side].push(run);
      settings.progress(
        `  routers, ${load.name} [${round + 1}/${settings.repeats}] ${side.padEnd(11)} ${Math.round(run.requestsPerSecond).toLocaleString('en-US').padStart(7)} req/s  p99 ${run.latency.p99Ms.toFixed(2)} ms`,
      );
    }
  }
  return {
    generator: load.name,
    label: ENDPOINT.label,
    connections: ROUTER_TARGETS.connections,
    direct: summarise(runs.direct),
    keepalive: summarise(runs.keepalive),
    noKeepalive: summarise(runs.noKeepalive),
    keepaliveVsNoKeepalive: pairedRatio(runs.keepalive, runs.noKeepalive, (run) => run.requestsPerSecond),
    keepaliveVsDirect: pairedRatio(runs.keepalive, runs.direct, (run) => run.requestsPerSecond),
    p99VsNoKeepalive: pairedRatio(runs.keepalive, runs.noKeepalive, (run) => run.latency.p99Ms),
  };
}

const x = (value: number | null) => (value === null ? '–' : `${value.toFixed(2)}x`);

/**
 * The three router targets of the issue, once per load generator (the comparisons measured), or
 * "not measured" once. Pure.
 */
export function routerTargets(comparisons: readonly RouterComparison[]): TargetCheck[] {
  const name = `/predict (3 rows), ${ROUTER_TARGETS.connections} connections, nginx with upstream keepalive`;
  const measured: readonly (RouterComparison | null)[] = comparisons.length > 0 ? comparisons : [null];
  return measured.flatMap((comparison) => {
    const check = (what: string, goal: string, value: number | null, met: (value: number) => boolean): TargetCheck => ({
      name: `${name}: ${what}${comparison ? ` (${comparison.generator})` : ''}`,
      target: goal,
      measured: comparison && value !== null ? x(value) : 'not measured',
      met: comparison && value !== null ? met(value) : null,
    });
    return [
      check(
        'req/s vs the same stack without keepalive',
        `≥ ${ROUTER_TARGETS.vsNoKeepalive}x`,
        comparison?.keepaliveVsNoKeepalive ?? null,
        (value) => value >= ROUTER_TARGETS.vsNoKeepalive,
      ),
      check(
        'req/s vs the same color directly',
        `≥ ${ROUTER_TARGETS.vsDirect}x`,
        comparison?.keepaliveVsDirect ?? null,
        (value) => value >= ROUTER_TARGETS.vsDirect,
      ),
      check(
        'p99 vs without keepalive',
        `≤ ${ROUTER_TARGETS.p99VsNoKeepalive}x`,
        comparison?.p99VsNoKeepalive ?? null,
        (value) => value <= ROUTER_TARGETS.p99VsNoKeepalive,
      ),
    ];
  });
}

/** The side-by-side tables, one per load generator. Pure. */
export function routerLines(comparisons: readonly RouterComparison[]): string[] {
  return comparisons.flatMap((comparison) => {
    const row = (what: string, side: RouterComparison['direct']) =>
      `| ${what} | ${Math.round(side.requestsPerSecond).toLocaleString('en-US')} | ${side.latencyP50Ms.toFixed(2)} | ${side.latencyP99Ms.toFixed(2)} | ${side.proxyCpuUsPerRequest ?? '–'} | ${side.serverCpuUsPerRequest ?? '–'} | ${side.loadCpuUsPerRequest ?? '–'} |`;
    return [
      '',
      `### Routers side by side, load from ${comparison.generator} (${comparison.label}, ${comparison.connections} connections, the same live color)`,
      '',
      `| path | req/s | p50 ms | p99 ms | nginx CPU µs/req | color CPU µs/req | ${comparison.generator} CPU µs/req |`,
      '|---|--:|--:|--:|--:|--:|--:|',
      row('the color directly', comparison.direct),
      row('nginx, upstream keepalive', comparison.keepalive),
      row('nginx, no keepalive', comparison.noKeepalive),
      '',
      `keepalive / no keepalive: ${x(comparison.keepaliveVsNoKeepalive)} req/s, ${x(comparison.p99VsNoKeepalive)} p99; keepalive / direct: ${x(comparison.keepaliveVsDirect)} req/s (paired runs).`,
    ];
  });
}
