/**
 * `nx run bench:judge`: the canary judge's CPU cost per interval. Synthetic intervals of 10,000
 * and 100,000 requests (half per color, the bodies of deploy/canary-samples.json answered as
 * v1.0.0 answers them, a few ms of latency in whole ms), judged with the default limits, alone and
 * with a paired answer for every stable request (shadow at 100%). Prints a markdown table and
 * writes the JSON to tools/bench/results/judge-<time>.json. No server: only the statistics.
 */
import { DeploymentSpec, type JudgeWindow, judgeInterval, judgeLimits } from '@mlbg/deploy';
import { modelOfCard, seededRandom, simulatedWindow } from '@mlbg/deploy/testing';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from './bench';
import { machineInfo } from './machine';

const SIZES = (process.env['JUDGE_BENCH_SIZES'] ?? '10000,100000').split(',').map(Number);
/** Judged this many times per case; the median is reported (the first run also pays for the JIT). */
const RUNS = Number(process.env['JUDGE_BENCH_RUNS'] ?? 5);

interface Case {
  readonly requests: number;
  readonly paired: boolean;
  readonly cpuMs: number;
  readonly wallMs: number;
  readonly answerRows: number;
  readonly verdict: string;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function main(): void {
  const card = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'models/v1.0.0/model.json'), 'utf8'));
  const model = modelOfCard(card);
  const bodies = (JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'deploy/canary-samples.json'), 'utf8')) as { features: number[][] }[]).map(
    (body) => body.features,
  );
  const limits = judgeLimits(DeploymentSpec.parse({}));
  const cases: Case[] = [];
  for (const requests of SIZES) {
    const half = { requests: requests / 2 };
    const window = simulatedWindow({
      canary: model,
      stable: model,
      canarySize: half,
      stableSize: half,
      traffic: { bodies, errorShare: 0.002, medianMs: 3 },
      random: seededRandom(requests),
    });
    const pairs = window.stable.answers.map((answer, i) => {
      const side = { outputs: answer.outputs, latencyMs: 1 };
      return { requestId: `r${i}`, live: side, candidate: side };
    });
    for (const paired of [false, true]) {
      const input: JudgeWindow = { ...window, pairs: paired ? pairs : [] };
      const cpu: number[] = [];
      const wall: number[] = [];
      let verdict = '';
      for (let run = 0; run < RUNS; run++) {
        const [cpuBefore, wallBefore] = [process.cpuUsage(), performance.now()];
        verdict = judgeInterval(input, limits).verdict;
        const used = process.cpuUsage(cpuBefore);
        wall.push(performance.now() - wallBefore);
        cpu.push((used.user + used.system) / 1000);
      }
      const answerRows = window.canary.answers.length + window.stable.answers.length;
      cases.push({ requests, paired, cpuMs: median(cpu), wallMs: median(wall), answerRows, verdict });
    }
  }
  const machine = machineInfo(undefined, new Date(), loadavg()[0] ?? 0);
  const lines = [
    `Judge CPU per interval, median of ${RUNS} runs; ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, load average ${machine.loadAverageAtStart.toFixed(2)}.`,
    '',
    '| requests (both colors) | paired answers | CPU ms | wall ms | verdict |',
    '|--:|--:|--:|--:|---|',
    ...cases.map(
      (item) =>
        `| ${item.requests.toLocaleString('en')} | ${item.paired ? (item.requests / 2).toLocaleString('en') : 0} | ${item.cpuMs.toFixed(1)} | ${item.wallMs.toFixed(1)} | ${item.verdict} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const folder = join(WORKSPACE_ROOT, 'tools/bench/results');
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `judge-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ machine, runs: RUNS, cases }, null, 2)}\n`);
  process.stdout.write(`written to ${file}\n`);
}

main();
