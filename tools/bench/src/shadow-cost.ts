/**
 * What shadow traffic costs the live request: `nx run bench:shadow`. One run, through the real
 * stack's nginx (POST /predict, 3 rows, keep-alive clients), in turn with shadow off, on (the idle
 * color answering), on with an idle color that answers 50 ms late, and on with one that never
 * answers, in alternating rounds; medians, ratios against "off" in the same run. The slow and dead idle colors are
 * small servers of the bench's own, put behind the `preview` link for their case only.
 */
import { type Color, otherColor } from '@mlbg/contract';
import { DEFAULT_REPLICAS, PREVIEW_LINK, replicaNumbers, replicaSocket, stackLayout } from '@mlbg/deploy';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LoadGenerator, type LoadResult, failedCount } from './load';
import { predictBody } from './payloads';
import { deploy, startServiceStack } from './service-stack';

const WORKSPACE_ROOT = resolve(__dirname, '../../..');
const SECONDS = Number(process.env['SHADOW_BENCH_SECONDS'] ?? 5);
const CONNECTIONS = Number(process.env['SHADOW_BENCH_CONNECTIONS'] ?? 16);
const LATE_MS = 50;
/** Replicas per color, as the committed spec runs them; each stand-in color has as many. */
const REPLICAS = DEFAULT_REPLICAS.perColor;
/** Rounds of all cases, alternating, so drift of a shared machine spreads over every case; medians reported. */
const ROUNDS = Number(process.env['SHADOW_BENCH_ROUNDS'] ?? 2);
const WARM_UP_SECONDS = 3;

type Idle = 'color' | 'late' | 'dead';
interface Case {
  readonly name: string;
  readonly shadow: boolean;
  readonly idle: Idle;
}
const CASES: readonly Case[] = [
  { name: 'shadow off', shadow: false, idle: 'color' },
  { name: 'shadow on, idle color answers', shadow: true, idle: 'color' },
  { name: `shadow on, idle answers ${LATE_MS} ms late`, shadow: true, idle: 'late' },
  { name: 'shadow on, idle never answers', shadow: true, idle: 'dead' },
];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

interface RelayCounters {
  received: number;
  forwarded: number;
  dropped: number;
  failed: number;
}

/** A stand-in idle color on a unix socket: answers after `delayMs`, or never. */
async function fakeIdle(socket: string, delayMs: number | 'never'): Promise<Server> {
  rmSync(socket, { force: true });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (delayMs !== 'never') setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), delayMs);
    });
  });
  await new Promise<void>((done) => server.listen(socket, done));
  return server;
}

/** An idle color of stand-ins: a folder with one of them on each replica's socket, as the relay reaches a color. */
async function fakeIdleColor(folder: string, delayMs: number | 'never'): Promise<Server[]> {
  mkdirSync(folder, { recursive: true });
  return Promise.all(replicaNumbers(REPLICAS).map((number) => fakeIdle(join(folder, replicaSocket(number)), delayMs)));
}

/** Moves the preview link (what the relay forwards to) to a color's folder or a stand-ins' folder. */
function pointPreview(socketDir: string, target: string): void {
  const link = join(socketDir, PREVIEW_LINK);
  rmSync(`${link}.bench`, { force: true });
  symlinkSync(target, `${link}.bench`);
  renameSync(`${link}.bench`, link);
}

async function main(): Promise<void> {
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const load0 = loadavg()[0] ?? 0;
  progress(`bench:shadow: starting the stack (load average ${load0.toFixed(2)})`);
  const stack = await startServiceStack({ workspaceRoot: WORKSPACE_ROOT, logLevel: 'warn', progress, replicas: REPLICAS });
  const { socketDir } = stackLayout(WORKSPACE_ROOT, stack.stateDir, tmpdir());
  const idleColor: Color = otherColor(stack.live);
  const fakes = {
    late: await fakeIdleColor(join(socketDir, 'bench-late'), LATE_MS),
    dead: await fakeIdleColor(join(socketDir, 'bench-dead'), 'never'),
  };
  const load = await LoadGenerator.start();
  const shadowCli = (...argv: string[]) => deploy(WORKSPACE_ROOT, stack.stateDir, ['shadow', ...argv], progress);
  const rows: { case: Case; result: LoadResult; relay: RelayCounters | null }[] = [];
  try {
    progress(`  warm-up: ${WARM_UP_SECONDS} s`);
    await load.run({
      url: `${stack.routerUrl}/predict`,
      method: 'POST',
      body: predictBody(3),
      connections: CONNECTIONS,
      durationSeconds: WARM_UP_SECONDS,
    });
    const order = Array.from({ length: ROUNDS }, (_, round) => (round % 2 === 0 ? CASES : [...CASES].reverse())).flat();
    for (const item of order) {
      pointPreview(socketDir, item.idle === 'color' ? idleColor : `bench-${item.idle}`);
      const switched = await shadowCli(item.shadow ? 'on' : 'off');
      if (!switched.ok) throw new Error(`deploy shadow ${item.shadow ? 'on' : 'off'} failed: ${JSON.stringify(switched.error)}`);
      progress(`  ${item.name}: ${SECONDS} s, ${CONNECTIONS} connections`);
      const before = (await shadowCli('status')).result?.relay ?? null;
      const result = await load.run({
        url: `${stack.routerUrl}/predict`,
        method: 'POST',
        body: predictBody(3),
        connections: CONNECTIONS,
        durationSeconds: SECONDS,
      });
      const after = (await shadowCli('status')).result?.relay ?? null;
      const relay =
        before && after
          ? {
              received: after.received - before.received,
              forwarded: after.forwarded - before.forwarded,
              dropped: after.dropped - before.dropped,
              failed: after.failed - before.failed,
            }
          : null;
      rows.push({ case: item, result, relay });
    }
  } finally {
    pointPreview(socketDir, idleColor);
    await shadowCli('off');
    await load.close();
    for (const server of Object.values(fakes).flat()) server.close();
    await stack.stop();
  }

  const summary = CASES.map((item) => {
    const runs = rows.filter((row) => row.case === item);
    const relays = runs.map((row) => row.relay).filter((relay): relay is RelayCounters => relay !== null);
    const sum = (key: keyof RelayCounters) => relays.reduce((total, relay) => total + relay[key], 0);
    return {
      case: item,
      rps: median(runs.map((row) => row.result.requestsPerSecond)),
      p99: median(runs.map((row) => row.result.latency.p99Ms)),
      failed: runs.reduce((total, row) => total + failedCount(row.result), 0),
      relay:
        relays.length > 0
          ? { received: sum('received'), forwarded: sum('forwarded'), dropped: sum('dropped'), failed: sum('failed') }
          : null,
    };
  });
  const base = summary[0] ?? { rps: 1, p99: 1 };
  const lines = [
    `Shadow cost on the live path: POST /predict (3 rows) through nginx, ${CONNECTIONS} keep-alive connections, ${SECONDS} s per case, ${ROUNDS} alternating round(s) after a ${WARM_UP_SECONDS} s warm-up, medians; ratios against "shadow off" in the same run.`,
    `Node ${process.version}; load average at start ${load0.toFixed(2)} (2 cores shared with other work: absolute figures are noisy, compare the ratios).`,
    '',
    '| case | req/s | ratio | p99 ms | p99 ratio | failed | relay: received / forwarded / dropped / failed |',
    '|---|--:|--:|--:|--:|--:|---|',
    ...summary.map(
      ({ case: item, rps, p99, failed, relay }) =>
        `| ${item.name} | ${Math.round(rps).toLocaleString('en')} | ${(rps / base.rps).toFixed(2)}x | ${p99.toFixed(2)} | ${(p99 / base.p99).toFixed(2)}x | ${failed} | ${relay ? `${relay.received} / ${relay.forwarded} / ${relay.dropped} / ${relay.failed}` : '-'} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const out = join(WORKSPACE_ROOT, 'tools/bench/results');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, `shadow-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
    `${JSON.stringify({ seconds: SECONDS, connections: CONNECTIONS, loadAverage: load0, rows }, null, 2)}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:shadow: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
