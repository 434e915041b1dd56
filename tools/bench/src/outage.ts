/**
 * `nx run bench:outage`: how long clients see failures when a process of the local stack crashes.
 * For each replica count (`--replicas=1,2`, the default), starts a stack with that many processes per
 * color (its supervisor, the colors' replicas, nginx), puts 32 keep-alive clients on POST /predict
 * through nginx, then `kill -9`s the live color's first replica (and then nginx) a few times, one at
 * a time, each after the stack is healthy again and the restart counts as stable (a first crash
 * each time). Every answer is counted; the outage window of a kill is its first to last failed
 * request (with two replicas there should be none). Prints a markdown table and writes JSON to
 * tools/bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SUPERVISOR } from '@mlbg/deploy';
import { type LoadReport, failureKinds, keepAliveLoad, summarize } from '@mlbg/deploy/testing';
import { WORKSPACE_ROOT } from './bench';
import { deploy, startServiceStack } from './service-stack';

const CLIENTS = 32;
const KILLS = { live: 3, nginx: 2 };
const PREDICT = JSON.stringify({ features: [[1], [2], [3]] });
/** Answers after the stack is healthy again, before the next kill. */
const SETTLE_MS = 1_000;
/**
 * Between kills: longer than the supervisor's `stableAfterMs`, so each kill is a first crash
 * (restarted after 0.2 s), not the next step of a crash loop (0.4 s, 0.8 s, ...).
 */
const BETWEEN_KILLS_MS = DEFAULT_SUPERVISOR.stableAfterMs + 1_000;
const HEALTHY_TIMEOUT_MS = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface KillRecord {
  /** Replicas per color of the stack. */
  readonly replicas: number;
  readonly target: 'live color' | 'nginx';
  readonly answers: number;
  readonly failed: number;
  readonly windowMs: number | null;
  readonly firstFailureAfterKillMs: number | null;
  readonly healthyAfterMs: number;
  readonly kinds: Record<string, number>;
}

/** `--replicas=1,2`: the replica counts to measure, one stack each. */
function replicaCounts(argv: readonly string[]): number[] {
  const given = argv.find((arg) => arg.startsWith('--replicas='))?.slice('--replicas='.length) ?? '1,2';
  const counts = given.split(',').map(Number);
  if (counts.some((count) => !Number.isInteger(count) || count < 1))
    throw new Error(`--replicas must list whole numbers of at least 1, e.g. --replicas=1,2 (got "${given}")`);
  return counts;
}

async function main(): Promise<number> {
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const load0 = loadavg()[0] ?? 0;
  const records: KillRecord[] = [];
  let answers = 0;
  for (const replicas of replicaCounts(process.argv.slice(2))) answers += await killsOn(replicas, records, progress);
  const result = {
    date: new Date().toISOString(),
    cores: cpus().length,
    loadAverageAtStart: load0,
    clients: CLIENTS,
    answers,
    kills: records,
  };
  const dir = join(WORKSPACE_ROOT, 'tools/bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `outage-${result.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${markdown(result)}\nWrote ${file}.\n`);
  return 0;
}

/** The kills on a stack of `replicas` processes per color; the answers counted. */
async function killsOn(replicas: number, records: KillRecord[], progress: (line: string) => void): Promise<number> {
  progress(`Starting a local stack of ${replicas} replica(s) per color...`);
  const stack = await startServiceStack({ workspaceRoot: WORKSPACE_ROOT, logLevel: 'warn', progress, replicas });
  const port = Number(new URL(stack.routerUrl).port);
  const status = () => deploy(WORKSPACE_ROOT, stack.stateDir, ['status'], progress, stack.specFile);
  const load = keepAliveLoad({ port, clients: CLIENTS, path: '/predict', body: PREDICT });
  let answers = 0;
  try {
    await sleep(SETTLE_MS);
    for (const target of ['live color', 'nginx'] as const) {
      for (let kill = 1; kill <= KILLS[target === 'live color' ? 'live' : 'nginx']; kill += 1) {
        const before = (await status()).result;
        const pid = target === 'nginx' ? before?.router?.pid : before?.live ? before.colors?.[before.live].pid : null;
        if (!pid) throw new Error(`no pid for the ${target} in deploy status`);
        const killAt = Date.now() - load.started;
        process.kill(pid, 'SIGKILL');
        const begin = Date.now();
        while (!(await status()).ok) {
          if (Date.now() - begin > HEALTHY_TIMEOUT_MS)
            throw new Error(`the stack was not healthy ${HEALTHY_TIMEOUT_MS / 1000} s after the ${target} was killed`);
          await sleep(50);
        }
        const healthyAfterMs = Date.now() - begin;
        await sleep(SETTLE_MS);
        const now = Date.now() - load.started;
        const report: LoadReport = summarize(load.seen().filter((item) => item.at >= killAt && item.at < now));
        records.push({
          replicas,
          target,
          answers: report.total,
          failed: report.failed.length,
          windowMs: report.windowMs,
          firstFailureAfterKillMs: report.firstFailureAt === null ? null : report.firstFailureAt - killAt,
          healthyAfterMs,
          kinds: failureKinds(report),
        });
        progress(
          `${replicas} replica(s): ${target} kill ${kill}: ${report.failed.length} of ${report.total} failed, window ${report.windowMs ?? 0} ms; waiting ${BETWEEN_KILLS_MS / 1000} s (the supervisor's stableAfterMs) before the next`,
        );
        await sleep(BETWEEN_KILLS_MS - SETTLE_MS);
      }
    }
  } finally {
    answers = (await load.stop()).total;
    await stack.stop();
  }
  return answers;
}

function markdown(result: {
  date: string;
  cores: number;
  loadAverageAtStart: number;
  clients: number;
  answers: number;
  kills: readonly KillRecord[];
}): string {
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length === 0 ? 0 : (sorted[Math.floor((sorted.length - 1) / 2)] as number);
  };
  const lines = [
    `Outage windows, ${result.date}: ${result.cores} cores, load average at start ${result.loadAverageAtStart.toFixed(2)}, ${result.clients} keep-alive clients, ${result.answers} answers counted.`,
    '',
    '| replicas per color | kill -9 of | answers | failed | window ms (first to last failure) | first failure after the kill, ms | healthy again after, ms | failures |',
    '|--:|---|--:|--:|--:|--:|--:|---|',
    ...result.kills.map(
      (kill) =>
        `| ${kill.replicas} | ${kill.target === 'live color' && kill.replicas > 1 ? 'one live replica' : kill.target} | ${kill.answers} | ${kill.failed} | ${kill.windowMs ?? '-'} | ${kill.firstFailureAfterKillMs ?? '-'} | ${kill.healthyAfterMs} | ${JSON.stringify(kill.kinds)} |`,
    ),
    '',
  ];
  for (const replicas of [...new Set(result.kills.map((kill) => kill.replicas))]) {
    for (const target of ['live color', 'nginx'] as const) {
      const kills = result.kills.filter((kill) => kill.target === target && kill.replicas === replicas);
      const windows = kills.map((kill) => kill.windowMs ?? 0);
      lines.push(
        `${replicas} replica(s), ${target}: ${kills.reduce((sum, kill) => sum + kill.failed, 0)} failed in ${kills.length} kill(s), median window ${median(windows)} ms, max ${Math.max(...windows)} ms.`,
      );
    }
  }
  return lines.join('\n');
}

void main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench outage: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
