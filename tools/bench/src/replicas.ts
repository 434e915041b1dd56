/**
 * `nx run bench:replicas`: what replicas buy. For each replica count (`--replicas=1,2,4`; by default
 * 1, 2 and 4 where the machine has at least that many cores), one run of:
 *
 * - throughput of the 3-row `/predict` through nginx at 32 keep-alive connections: the local stack
 *   with that many replicas per color against the bare baseline with as many processes behind the
 *   same nginx config (alternating runs, the ratio is the median of paired runs), and how both
 *   scale against one process;
 * - one `kill -9` of the live color's first replica under 32 keep-alive clients: with one replica
 *   that is an outage (its failed requests and window), with more there should be no failure.
 *
 * wrk loads when it is installed (it costs the machine little; autocannon, a Node process, takes
 * about a core on its own). Prints a markdown table and writes JSON to tools/bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_SUPERVISOR, findBinary } from '@mlbg/deploy';
import { failureKinds, freePorts, keepAliveLoad, summarize } from '@mlbg/deploy/testing';
import { startBaseline } from './baseline';
import { WORKSPACE_ROOT } from './bench';
import { ENDPOINTS } from './endpoints';
import { LoadGenerator, type LoadSource } from './load';
import { measureCase } from './measure';
import { deploy, startServiceStack } from './service-stack';
import { WrkGenerator, findWrk } from './wrk';

const CLIENTS = 32;
const PREDICT = JSON.stringify({ features: [[1], [2], [3]] });
const HEALTHY_TIMEOUT_MS = 60_000;
/** Answers counted after the stack is healthy again. */
const SETTLE_MS = 1_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Options {
  readonly replicas: readonly number[];
  readonly durationSeconds: number;
  readonly repeats: number;
  readonly kill: boolean;
}

export interface ReplicaRow {
  readonly replicas: number;
  readonly serviceRps: number;
  readonly baselineRps: number | null;
  readonly ratio: number | null;
  readonly serviceP99Ms: number;
  readonly failed: number;
  /** The kill -9 of one live replica: answers, failed, window (first to last failure). */
  readonly kill: {
    readonly answers: number;
    readonly failed: number;
    readonly windowMs: number | null;
    readonly kinds: Record<string, number>;
  } | null;
}

function parseOptions(argv: readonly string[]): Options {
  const value = (name: string) => argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  const cores = cpus().length;
  const replicas = (value('replicas') ?? [1, 2, 4].filter((count) => count === 1 || count <= cores).join(',')).split(',').map(Number);
  const durationSeconds = Number(value('duration') ?? 5);
  const repeats = Number(value('repeats') ?? 3);
  if (
    replicas.some((count) => !Number.isInteger(count) || count < 1) ||
    !(durationSeconds > 0) ||
    !Number.isInteger(repeats) ||
    repeats < 1
  )
    throw new Error('usage: bench:replicas [--replicas=1,2,4] [--duration=5] [--repeats=3] [--no-kill]');
  return { replicas, durationSeconds, repeats, kill: !argv.includes('--no-kill') };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const nginx = findBinary('nginx', process.env['PATH']);
  if (!nginx) throw new Error('nginx is not installed: the bench measures through it');
  const load0 = loadavg()[0] ?? 0;
  const wrk = findWrk();
  const load: LoadSource & { close(): unknown } = wrk ? new WrkGenerator(wrk) : await LoadGenerator.start();
  progress(`${cpus().length} cores, load average ${load0.toFixed(2)}; load by ${load.name}; replicas ${options.replicas.join(', ')}.`);
  const rows: ReplicaRow[] = [];
  try {
    for (const replicas of options.replicas) rows.push(await measureReplicas(replicas, options, load, nginx, progress));
  } finally {
    await load.close();
  }
  const result = {
    date: new Date().toISOString(),
    cores: cpus().length,
    loadAverageAtStart: load0,
    loadGenerator: load.name,
    connections: CLIENTS,
    durationSeconds: options.durationSeconds,
    repeats: options.repeats,
    rows,
  };
  const dir = join(WORKSPACE_ROOT, 'tools/bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `replicas-${result.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${replicasMarkdown(result)}\nWrote ${file}.\n`);
  return rows.some((row) => row.failed > 0) ? 1 : 0;
}

/** One replica count: the stack and a baseline of as many processes, measured side by side, then one kill. */
async function measureReplicas(
  replicas: number,
  options: Options,
  load: LoadSource,
  nginx: string,
  progress: (line: string) => void,
): Promise<ReplicaRow> {
  progress(`${replicas} replica(s) per color: starting the stack and a baseline of ${replicas} process(es)...`);
  const stack = await startServiceStack({ workspaceRoot: WORKSPACE_ROOT, logLevel: 'warn', progress: () => undefined, replicas });
  try {
    const [serverPort, routerPort] = await freePorts(2);
    const baseline = await startBaseline({
      workspaceRoot: WORKSPACE_ROOT,
      modelPath: resolve(WORKSPACE_ROOT, stack.colors[stack.live].model),
      nginx,
      ports: { server: serverPort as number, router: routerPort as number },
      processes: replicas,
    });
    let measured;
    try {
      measured = await measureCase(
        load,
        {
          endpoint: ENDPOINTS['predict-3'],
          via: 'nginx',
          connections: CLIENTS,
          // CPU per request is read of one process: only meaningful with one.
          service: {
            system: 'service',
            via: 'nginx',
            url: stack.routerUrl,
            ...(replicas === 1 ? { serverPid: stack.colors[stack.live].pid } : {}),
          },
          baseline: {
            system: 'baseline',
            via: 'nginx',
            url: baseline.routerUrl,
            ...(replicas === 1 ? { serverPid: baseline.serverPid } : {}),
          },
        },
        { durationSeconds: options.durationSeconds, repeats: options.repeats, warmupSeconds: 1, progress, checkAborted: () => undefined },
      );
    } finally {
      await baseline.stop();
    }
    const { service } = measured;
    const failed = service.failures.non2xx + service.failures.errors + service.failures.resets;
    const kill = options.kill ? await killOneReplica(stack, progress) : null;
    return {
      replicas,
      serviceRps: Math.round(service.requestsPerSecond),
      baselineRps: measured.baseline ? Math.round(measured.baseline.requestsPerSecond) : null,
      ratio: measured.ratio,
      serviceP99Ms: service.latencyP99Ms,
      failed,
      kill,
    };
  } finally {
    await stack.stop();
  }
}

/** `kill -9` of the live color's first replica under 32 keep-alive clients, until the stack is healthy again. */
async function killOneReplica(
  stack: Awaited<ReturnType<typeof startServiceStack>>,
  progress: (line: string) => void,
): Promise<ReplicaRow['kill']> {
  const status = () => deploy(WORKSPACE_ROOT, stack.stateDir, ['status'], () => undefined, stack.specFile);
  // A first crash (restarted after the supervisor's shortest back-off), not the next of a loop.
  await sleep(DEFAULT_SUPERVISOR.stableAfterMs);
  const before = (await status()).result;
  const pid = before?.live ? before.colors?.[before.live].pid : null;
  if (!pid) throw new Error('deploy status shows no pid for the live color');
  const clients = keepAliveLoad({ port: Number(new URL(stack.routerUrl).port), clients: CLIENTS, path: '/predict', body: PREDICT });
  try {
    while (clients.count() < 500) await sleep(20);
    const killAt = Date.now() - clients.started;
    process.kill(pid, 'SIGKILL');
    const begin = Date.now();
    while (!(await status()).ok) {
      if (Date.now() - begin > HEALTHY_TIMEOUT_MS)
        throw new Error(`the stack was not healthy ${HEALTHY_TIMEOUT_MS / 1000} s after the kill`);
      await sleep(50);
    }
    await sleep(SETTLE_MS);
    const report = summarize(clients.seen().filter((item) => item.at >= killAt));
    progress(`  kill -9 of one live replica: ${report.failed.length} of ${report.total} failed, window ${report.windowMs ?? 0} ms`);
    return { answers: report.total, failed: report.failed.length, windowMs: report.windowMs, kinds: failureKinds(report) };
  } finally {
    await clients.stop();
  }
}

/** The report, as markdown. Pure. */
export function replicasMarkdown(result: {
  readonly date: string;
  readonly cores: number;
  readonly loadAverageAtStart: number;
  readonly loadGenerator: string;
  readonly connections: number;
  readonly rows: readonly ReplicaRow[];
}): string {
  const one = result.rows.find((row) => row.replicas === 1);
  const scale = (value: number | null, base: number | null | undefined) => (value !== null && base ? `${(value / base).toFixed(2)}x` : '-');
  return [
    `Replicas, ${result.date}: ${result.cores} cores, load average at start ${result.loadAverageAtStart.toFixed(2)}, ${result.connections} keep-alive connections by ${result.loadGenerator}, POST /predict with 3 rows through nginx.`,
    '',
    '| replicas per color | service req/s | baseline req/s (as many processes) | ratio | service vs 1 replica | baseline vs 1 process | p99 ms | kill -9 of one live replica: failed / answers (window) |',
    '|--:|--:|--:|--:|--:|--:|--:|---|',
    ...result.rows.map((row) => {
      const kill = row.kill
        ? `${row.kill.failed} / ${row.kill.answers}${row.kill.windowMs === null ? '' : ` (${row.kill.windowMs} ms)`}`
        : '-';
      return `| ${row.replicas} | ${row.serviceRps.toLocaleString('en-US')} | ${row.baselineRps?.toLocaleString('en-US') ?? '-'} | ${row.ratio === null ? '-' : `${row.ratio.toFixed(2)}x`} | ${scale(row.serviceRps, one?.serviceRps)} | ${scale(row.baselineRps, one?.baselineRps)} | ${row.serviceP99Ms.toFixed(1)} | ${kill} |`;
    }),
    '',
    `A color of N replicas serves what N processes can; a machine with fewer free cores than N (plus nginx and the load generator) can not show it.`,
  ].join('\n');
}

if (require.main === module) {
  void main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`bench replicas: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
