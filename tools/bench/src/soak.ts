/**
 * `nx run bench:soak` (not part of `npm test`): the local stack with replicas under full load for a
 * long run, while the deploy tool does what production does to it. By default:
 *
 * - at least 1,000,000 requests: 32 keep-alive clients POST the 3-row /predict through nginx
 *   without pause, from a process of their own (soak-load-worker.ts), from the first event to the last;
 * - 100 switches (toggles, with the real preflight on every replica and the verification);
 * - a full canary of the idle color (every weight step, then promoted) and one canary that is
 *   rolled back (made to fail by a p99 limit it can not meet, set in the soak's own spec for that
 *   one command, so its rollback runs under load without a request lost on purpose);
 * - 20 `kill -9`s of single live replicas spread over the run (two during the promoted canary),
 *   each after the previous one is back and ready.
 *
 * It prints the requests, the failed ones by kind and by the event they happened near, the
 * switches, and the p99 per phase, and writes tools/bench/results/soak-<time>.json; a run that met
 * all of the minimums above also writes tools/bench/results/soak.json (committed, beside the
 * bench's reference.json). Small runs for a check: `--requests=20000 --switches=4 --kills=3
 * --canary-interval=3`. Exit status 1 when a request failed or an event did not go as planned.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { type Color, otherColor } from '@mlbg/contract';
import { DEFAULT_SUPERVISOR } from '@mlbg/deploy';
import { WORKSPACE_ROOT } from './bench';
import { predictBody } from './payloads';
import { type ServiceStack, deploy, startServiceStack } from './service-stack';
import type { FromSoakWorker, ToSoakWorker } from './soak-load-worker';
import { type SoakEvent, soakMarkdown, soakResult } from './soak-report';

const WORKER = join(__dirname, 'soak-load-worker.ts');
const TSCONFIG = join(__dirname, '..', 'tsconfig.lib.json');
const RESULTS = join(WORKSPACE_ROOT, 'tools/bench/results');
const READY_TIMEOUT_MS = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface SoakOptions {
  readonly requests: number;
  readonly switches: number;
  readonly kills: number;
  readonly clients: number;
  readonly replicas: number;
  readonly canarySteps: readonly number[];
  readonly canaryIntervalSeconds: number;
}

export const DEFAULT_SOAK: SoakOptions = {
  requests: 1_000_000,
  switches: 100,
  kills: 20,
  clients: 32,
  replicas: 2,
  canarySteps: [5, 25, 50, 100],
  canaryIntervalSeconds: 10,
};

/** `--requests=N --switches=N --kills=N --clients=N --replicas=N --canary-steps=5,25,50,100 --canary-interval=S`. Pure. */
export function parseSoakOptions(argv: readonly string[]): SoakOptions {
  const value = (name: string) => argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  const whole = (name: string, fallback: number, min: number) => {
    const text = value(name);
    const parsed = text === undefined ? fallback : Number(text);
    if (!Number.isInteger(parsed) || parsed < min) throw new Error(`--${name} must be a whole number of at least ${min}, not "${text}"`);
    return parsed;
  };
  const steps = value('canary-steps')?.split(',').map(Number) ?? DEFAULT_SOAK.canarySteps;
  if (steps.some((step) => !Number.isInteger(step) || step < 1 || step > 100) || steps.at(-1) !== 100)
    throw new Error('--canary-steps must be rising whole percents ending at 100, e.g. 5,25,50,100');
  const unknown = argv.filter((arg) => !/^--(requests|switches|kills|clients|replicas|canary-steps|canary-interval)=/.test(arg));
  if (unknown.length > 0) throw new Error(`unknown option(s): ${unknown.join(' ')}`);
  return {
    requests: whole('requests', DEFAULT_SOAK.requests, 1),
    switches: whole('switches', DEFAULT_SOAK.switches, 0),
    kills: whole('kills', DEFAULT_SOAK.kills, 0),
    clients: whole('clients', DEFAULT_SOAK.clients, 1),
    replicas: whole('replicas', DEFAULT_SOAK.replicas, 2),
    canarySteps: steps,
    canaryIntervalSeconds: whole('canary-interval', DEFAULT_SOAK.canaryIntervalSeconds, 1),
  };
}

/** The load process: started, told its phase, counted, stopped with its report. */
class SoakLoad {
  private readonly waiting: ((message: FromSoakWorker) => void)[] = [];
  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: FromSoakWorker) => this.waiting.shift()?.(message));
  }

  static async start(url: string, clients: number, phase: string): Promise<SoakLoad> {
    const child = fork(WORKER, [], {
      execArgv: ['-r', '@swc-node/register'],
      env: { ...process.env, SWC_NODE_PROJECT: TSCONFIG },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('message', () => resolve());
    });
    const load = new SoakLoad(child);
    load.send({ type: 'start', url, body: predictBody(3), clients, phase });
    return load;
  }

  send(message: ToSoakWorker): void {
    this.child.send(message);
  }

  private ask<T extends FromSoakWorker['type']>(message: ToSoakWorker, type: T): Promise<Extract<FromSoakWorker, { type: T }>> {
    return new Promise((resolve) => {
      this.waiting.push((answer) => {
        if (answer.type === type) resolve(answer as Extract<FromSoakWorker, { type: T }>);
      });
      this.send(message);
    });
  }

  phase(name: string): void {
    this.send({ type: 'phase', phase: name });
  }

  count() {
    return this.ask({ type: 'count' }, 'count');
  }

  stop() {
    return this.ask({ type: 'stop' }, 'report');
  }
}

/** The soak's view of the stack: switches, kills and canaries, each recorded as an event. */
class Soak {
  readonly events: SoakEvent[] = [];
  constructor(
    private readonly stack: ServiceStack,
    private readonly progress: (line: string) => void,
  ) {}

  status() {
    return deploy(WORKSPACE_ROOT, this.stack.stateDir, ['status'], () => undefined, this.stack.specFile);
  }

  async live(): Promise<Color> {
    const live = (await this.status()).result?.live;
    if (!live) throw new Error('deploy status shows no live color');
    return live;
  }

  async switchOnce(index: number, total: number): Promise<void> {
    const startedAt = Date.now();
    const run = await this.stack.switchTraffic();
    const result = run.result;
    const outcome = result?.kind ?? 'error';
    const what = result && result.kind !== 'noop' ? `${result.from} -> ${result.to}` : 'toggle';
    this.events.push({ kind: 'switch', startedAt, endedAt: Date.now(), what, ok: outcome === 'switched', outcome });
    this.progress(`  switch ${index}/${total} ${what}: ${outcome}${run.error ? ` (${run.error})` : ''} in ${Date.now() - startedAt} ms`);
  }

  /** `kill -9` of one replica of `color` (at random), then waits until every replica is ready again. */
  async kill(color: Color, index: number, total: number): Promise<void> {
    const before = (await this.status()).result?.colors?.[color].replicaList ?? [];
    const victim = before[Math.floor(Math.random() * before.length)];
    if (!victim?.pid) throw new Error(`deploy status shows no running replica of ${color}`);
    const startedAt = Date.now();
    process.kill(victim.pid, 'SIGKILL');
    const back = await this.untilAllReady(victim.name, victim.pid);
    this.events.push({
      kind: 'kill',
      startedAt,
      endedAt: Date.now(),
      what: victim.name,
      ok: back,
      outcome: back ? 'restarted' : 'not back',
    });
    this.progress(
      `  kill -9 ${index}/${total} of ${victim.name} (pid ${victim.pid}): ${back ? `back and ready after ${Date.now() - startedAt} ms` : 'NOT back'}`,
    );
  }

  /** Until the killed replica runs again with a new pid and every replica of both colors is ready. */
  private async untilAllReady(name: string, oldPid: number): Promise<boolean> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const colors = (await this.status()).result?.colors;
      const replicas = colors ? [...(colors.blue.replicaList ?? []), ...(colors.green.replicaList ?? [])] : [];
      const killed = replicas.find((replica) => replica.name === name);
      if (killed && killed.pid !== oldPid && replicas.every((replica) => replica.phase === 'ready' && replica.health.ok)) return true;
      await sleep(100);
    }
    return false;
  }

  /** A canary of `color` through the deploy tool; `kill` is called at each weight while it runs. */
  async canary(
    color: Color,
    options: { steps: readonly number[]; intervalSeconds: number; specFile?: string; expect: 'promoted' | 'rolled-back' },
    atWeight?: (weight: number) => Promise<void>,
  ): Promise<void> {
    const startedAt = Date.now();
    const running = deploy(
      WORKSPACE_ROOT,
      this.stack.stateDir,
      ['canary', `--color=${color}`, `--steps=${options.steps.join(',')}`, `--interval=${options.intervalSeconds}s`],
      () => undefined,
      options.specFile ?? this.stack.specFile,
    );
    let done = false;
    const watched = (async () => {
      const seen = new Set<number>();
      while (!done && atWeight) {
        const weight = (await this.status()).result?.routes?.live[color] ?? 0;
        if (weight > 0 && weight < 100 && !seen.has(weight)) {
          seen.add(weight);
          await atWeight(weight);
        }
        await sleep(200);
      }
    })();
    const answer = await running.finally(() => (done = true));
    await watched;
    const outcome = answer.result?.kind ?? answer.error?.code ?? 'error';
    const what = `canary of ${color} (steps ${options.steps.join(', ')}, expected ${options.expect})`;
    this.events.push({ kind: 'canary', startedAt, endedAt: Date.now(), what, ok: outcome === options.expect, outcome });
    this.progress(`  ${what}: ${outcome} in ${Math.round((Date.now() - startedAt) / 1000)} s`);
  }
}

/** The spec for the canary that must be rolled back: the stack's own, with a p99 limit no color meets under load. */
function failingCanarySpec(stack: ServiceStack): string {
  const base = JSON.parse(readFileSync(stack.specFile ?? join(WORKSPACE_ROOT, 'deploy/deployment.json'), 'utf8')) as {
    canary?: { analysis?: object };
  };
  const file = `${stack.stateDir}.failing-canary.json`;
  const canary = { ...base.canary, analysis: { ...base.canary?.analysis, maxP99Ms: 0.001, failureLimit: 1 } };
  writeFileSync(file, JSON.stringify({ ...base, canary }));
  return file;
}

async function main(): Promise<number> {
  const options = parseSoakOptions(process.argv.slice(2));
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const load0 = loadavg()[0] ?? 0;
  progress(
    `Soak: ${options.requests.toLocaleString('en-US')} requests or more, ${options.switches} switches, ${options.kills} kill -9s, a promoted and a rolled-back canary; ${options.replicas} replicas per color, ${options.clients} clients.`,
  );
  const stack = await startServiceStack({
    workspaceRoot: WORKSPACE_ROOT,
    logLevel: 'warn',
    progress: () => undefined,
    replicas: options.replicas,
  });
  const soak = new Soak(stack, progress);
  let load: SoakLoad | undefined;
  let failingSpec: string | undefined;
  try {
    load = await SoakLoad.start(`${stack.routerUrl}/predict`, options.clients, 'warm-up');
    await sleep(3_000);
    // Two kills during the promoted canary (when there are that many); the rest spread over the switches.
    const canaryKills = Math.min(2, options.kills);
    const switchKills = options.kills - canaryKills;
    const killEvery = switchKills > 0 ? Math.max(1, Math.floor(options.switches / switchKills)) : Infinity;
    let kills = 0;
    let switches = 0;
    const switchRun = async (count: number) => {
      for (let run = 0; run < count; run += 1) {
        switches += 1;
        await soak.switchOnce(switches, options.switches);
        if (switches % killEvery === 0 && kills < switchKills) {
          // A first crash each time (the supervisor's shortest back-off), never the next step of a loop.
          await sleep(DEFAULT_SUPERVISOR.restartDelayMs);
          kills += 1;
          await soak.kill(await soak.live(), kills, options.kills);
        }
      }
    };
    const firstHalf = Math.ceil(options.switches / 2);

    load.phase(`switches 1-${firstHalf}`);
    await switchRun(firstHalf);

    load.phase('canary promoted');
    const stable = await soak.live();
    await soak.canary(
      otherColor(stable),
      { steps: options.canarySteps, intervalSeconds: options.canaryIntervalSeconds, expect: 'promoted' },
      async () => {
        if (kills >= switchKills + canaryKills) return;
        kills += 1;
        await soak.kill(stable, kills, options.kills);
      },
    );

    load.phase(`switches ${firstHalf + 1}-${options.switches}`);
    await switchRun(options.switches - firstHalf);
    // Kills the switches left undone (too few switches for them).
    while (kills < options.kills) {
      kills += 1;
      await soak.kill(await soak.live(), kills, options.kills);
    }

    load.phase('canary rolled back');
    failingSpec = failingCanarySpec(stack);
    await soak.canary(otherColor(await soak.live()), {
      steps: options.canarySteps,
      intervalSeconds: options.canaryIntervalSeconds,
      specFile: failingSpec,
      expect: 'rolled-back',
    });

    load.phase('steady');
    for (;;) {
      const counted = await load.count();
      if (counted.requests >= options.requests) break;
      await sleep(1_000);
    }
    const report = await load.stop();
    load = undefined;
    const result = soakResult({
      date: new Date().toISOString(),
      cores: cpus().length,
      loadAverageAtStart: load0,
      clients: options.clients,
      replicas: options.replicas,
      phases: report.phases,
      failures: report.failures,
      failuresDropped: report.failuresDropped,
      events: soak.events,
    });
    mkdirSync(RESULTS, { recursive: true });
    const file = join(RESULTS, `soak-${result.date.replace(/[:.]/g, '-')}.json`);
    const text = `${JSON.stringify(result, null, 2)}\n`;
    writeFileSync(file, text);
    if (result.complete) writeFileSync(join(RESULTS, 'soak.json'), text);
    process.stdout.write(`${soakMarkdown(result)}\n\nWrote ${file}${result.complete ? ' and tools/bench/results/soak.json' : ''}.\n`);
    return result.failed === 0 && soak.events.every((event) => event.ok) ? 0 : 1;
  } finally {
    if (load) await load.stop().catch(() => undefined);
    if (failingSpec) rmSync(failingSpec, { force: true });
    await stack.stop();
  }
}

if (require.main === module) {
  void main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`bench soak: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
