/**
 * `nx run bench:canary`: a canary's steps under load. Starts the real local stack, puts 32
 * keep-alive clients on nginx (POST /predict), runs `deploy canary --color=green` through the
 * deploy library with short intervals, and reports the failed requests (target 0), the share each
 * step was observed at, and how long each weight move took (the slot renames). Writes the JSON to
 * tools/bench/results/canary-<time>.json; exits 1 if a request failed.
 */
import { commandOutput } from '@mlbg/contract';
import { realDeps, runCli } from '@mlbg/deploy';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from './bench';
import { loadavg } from 'node:os';
import { machineInfo } from './machine';
import { predictBody } from './payloads';
import { startServiceStack } from './service-stack';

// autocannon ships no types; these are the parts used here.
interface AutocannonResult {
  readonly requests: { readonly total: number };
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly resets: number;
}
type Autocannon = (options: Record<string, unknown>, done: (error: Error | null, result: AutocannonResult) => void) => { stop(): void };
const autocannon = require('autocannon') as Autocannon;

const CONNECTIONS = 32;
const STEPS = '5,25,50,75,100';
const INTERVAL = '4s';
const MAX_LOAD_SECONDS = 300;

interface Step {
  readonly weight: number;
  readonly moveMs: number | null;
  responses: number;
  green: number;
}

async function main(): Promise<number> {
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const machine = machineInfo(
    realDeps({ workspaceRoot: WORKSPACE_ROOT, env: process.env, progress }).findBinary('nginx'),
    new Date(),
    loadavg()[0] ?? 0,
  );
  const stack = await startServiceStack({ workspaceRoot: WORKSPACE_ROOT, logLevel: 'warn', progress });
  try {
    const steps: Step[] = [];
    let current: Step | undefined;
    let responses = 0;
    let instance: { stop(): void } | undefined;
    const finished = new Promise<AutocannonResult>((resolve, reject) => {
      instance = autocannon(
        {
          url: stack.routerUrl,
          connections: CONNECTIONS,
          reconnectRate: 999,
          duration: MAX_LOAD_SECONDS,
          timeout: 10,
          requests: [
            {
              method: 'POST',
              path: '/predict',
              headers: { 'content-type': 'application/json' },
              body: predictBody(3),
              onResponse: (_status: number, body: string) => {
                responses += 1;
                if (!current) return;
                current.responses += 1;
                if (body.includes('"model_version":"v1.1.0"')) current.green += 1;
              },
            },
          ],
        },
        (error, result) => (error ? reject(error) : resolve(result)),
      );
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    let stdout = '';
    const env = { ...process.env, BLUEGREEN_STATE_DIR: stack.stateDir };
    const onLine = (text: string) => {
      for (const line of text.split('\n')) {
        progress(`  ${line}`);
        const step = /green at (\d+)% .*moved in (\d+) ms/.exec(line);
        if (step) steps.push((current = { weight: Number(step[1]), moveMs: Number(step[2]), responses: 0, green: 0 }));
        if (line.startsWith('promoting')) steps.push((current = { weight: 100, moveMs: null, responses: 0, green: 0 }));
        if (line.startsWith('moving all live traffic back')) steps.push((current = { weight: 0, moveMs: null, responses: 0, green: 0 }));
      }
    };
    const code = await runCli(
      ['canary', '--color=green', `--steps=${STEPS}`, `--interval=${INTERVAL}`, '--expect-output-change', '--json'],
      {
        env,
        workspaceRoot: WORKSPACE_ROOT,
        cwd: WORKSPACE_ROOT,
        stdout: (text) => (stdout += text),
        stderr: onLine,
        deps: (lines) => realDeps({ workspaceRoot: WORKSPACE_ROOT, env, progress: lines }),
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    instance?.stop();
    const load = await finished;
    const canary = commandOutput('canary').parse(JSON.parse(stdout));
    const failed = load.non2xx + load.errors + load.timeouts + load.resets;
    const result = {
      kind: 'canary-under-load',
      time: new Date().toISOString(),
      machine,
      connections: CONNECTIONS,
      steps: STEPS,
      interval: INTERVAL,
      canary: {
        exitCode: code,
        outcome: canary.result?.kind ?? null,
        error: canary.error?.message ?? null,
        intervals: canary.result && 'intervals' in canary.result ? canary.result.intervals : [],
      },
      load: {
        requests: load.requests.total,
        responses,
        failed,
        non2xx: load.non2xx,
        errors: load.errors,
        timeouts: load.timeouts,
        resets: load.resets,
      },
      observed: steps.map((step) => ({
        weight: step.weight,
        moveMs: step.moveMs,
        responses: step.responses,
        greenShare: step.responses ? step.green / step.responses : null,
      })),
    };
    const dir = join(WORKSPACE_ROOT, 'tools/bench/results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `canary-${result.time.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    const lines = [
      `## Canary steps under load (${CONNECTIONS} keep-alive connections, steps ${STEPS}, ${INTERVAL} each)`,
      '',
      `${machine.cpuModel}, ${machine.cores} cores, load average at start ${machine.loadAverageAtStart}. Canary: ${result.canary.outcome}${result.canary.error ? ` (${result.canary.error})` : ''}.`,
      `Requests: ${load.requests.total}, failed ${failed} (non-2xx ${load.non2xx}, errors ${load.errors}, timeouts ${load.timeouts}, resets ${load.resets}).`,
      '',
      '| green weight | weight move (ms) | responses | green share seen |',
      '|--:|--:|--:|--:|',
      ...result.observed.map(
        (step) =>
          `| ${step.weight}% | ${step.moveMs ?? (step.weight === 100 ? '(promotion)' : '(rollback)')} | ${step.responses} | ${step.greenShare === null ? '-' : `${(100 * step.greenShare).toFixed(2)}%`} |`,
      ),
      '',
      '| interval at | verdict | canary p99 ms | stable p99 ms |',
      '|--:|---|--:|--:|',
      ...result.canary.intervals.map(
        (interval) => `| ${interval.weight}% | ${interval.verdict} | ${interval.canary.p99Ms ?? '-'} | ${interval.stable.p99Ms ?? '-'} |`,
      ),
      '',
      `JSON: ${file}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return failed === 0 && load.requests.total > 0 ? 0 : 1;
  } finally {
    await stack.stop();
  }
}

void main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
