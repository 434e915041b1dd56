import { routerLines } from './routers';
import type { BenchResult, CaseResult, MemorySnapshot, SwitchUnderLoad, TargetCheck } from './result';

/** The issue's targets, measured on a 2-core machine in one run. */
export const TARGETS = {
  /** /predict (3 rows) at 32 connections, direct and through nginx, as a fraction of the bare baseline's req/s. */
  predictRatio: 0.85,
  predictConnections: 32,
  /** The readiness answer, direct, as a fraction of the bare baseline's (it was 0.25x on the Nest/terminus path; #29 asks 0.95x). */
  healthRatio: 0.95,
  /** The classifier's 100-row /predict at 32 connections, direct, as a fraction of the bare baseline's on the same model. */
  classifierRatio: 0.95,
  nginxP99Ms: 10,
  switches: 20,
  colorRssMb: 150,
  /** The live color's RSS as a multiple of the bare baseline's: settled after the load, and the peak under it. */
  settledRssVsBaseline: 1.2,
  peakRssVsBaseline: 1.3,
} as const;

const number = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (value: number | null | undefined) =>
  value === null || value === undefined ? '–' : value < 10 ? value.toFixed(2) : value.toFixed(1);
const ratio = (value: number | null) => (value === null ? '–' : `${value.toFixed(2)}x`);
const cpu = (value: number | null) => (value === null ? '–' : number(value));

function findCase(cases: readonly CaseResult[], endpoint: string, via: string, connections: number): CaseResult | undefined {
  return cases.find((item) => item.endpoint === endpoint && item.via === via && item.connections === connections);
}

/** Each target, what this run measured for it, and whether it was met (null: not measured in this run). Pure. */
export function checkTargets(
  cases: readonly CaseResult[],
  switching: SwitchUnderLoad | null,
  memory: readonly MemorySnapshot[],
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const via of ['direct', 'nginx'] as const) {
    const found = findCase(cases, 'predict-3', via, TARGETS.predictConnections);
    checks.push({
      name: `/predict (3 rows), ${TARGETS.predictConnections} connections, ${via}: req/s vs the bare baseline`,
      target: `≥ ${TARGETS.predictRatio}x`,
      measured:
        found?.ratio == null || !found.baseline
          ? 'not measured'
          : `${ratio(found.ratio)} (${number(found.service.requestsPerSecond)} vs ${number(found.baseline.requestsPerSecond)} req/s)`,
      met: found?.ratio == null ? null : found.ratio >= TARGETS.predictRatio,
    });
  }
  const health = findCase(cases, 'health', 'direct', TARGETS.predictConnections);
  checks.push({
    name: `GET /health, ${TARGETS.predictConnections} connections, direct: req/s vs the bare baseline`,
    target: `≥ ${TARGETS.healthRatio}x`,
    measured:
      health?.ratio == null || !health.baseline
        ? 'not measured'
        : `${ratio(health.ratio)} (${number(health.service.requestsPerSecond)} vs ${number(health.baseline.requestsPerSecond)} req/s)`,
    met: health?.ratio == null ? null : health.ratio >= TARGETS.healthRatio,
  });
  const classifier = findCase(cases, 'classify-100', 'direct', TARGETS.predictConnections);
  checks.push({
    name: `/predict, classifier (100 rows), ${TARGETS.predictConnections} connections, direct: req/s vs the bare baseline`,
    target: `≥ ${TARGETS.classifierRatio}x`,
    measured:
      classifier?.ratio == null || !classifier.baseline
        ? 'not measured'
        : `${ratio(classifier.ratio)} (${number(classifier.service.requestsPerSecond)} vs ${number(classifier.baseline.requestsPerSecond)} req/s)`,
    met: classifier?.ratio == null ? null : classifier.ratio >= TARGETS.classifierRatio,
  });
  const nginx = findCase(cases, 'predict-3', 'nginx', TARGETS.predictConnections);
  checks.push({
    name: `/predict (3 rows), ${TARGETS.predictConnections} connections, through nginx: p99 latency`,
    target: `< ${TARGETS.nginxP99Ms} ms`,
    measured: nginx ? `${ms(nginx.service.latencyP99Ms)} ms (worst run ${ms(nginx.service.latencyP99MaxMs)} ms)` : 'not measured',
    met: nginx ? nginx.service.latencyP99Ms < TARGETS.nginxP99Ms : null,
  });
  const big = cases.filter((item) => item.endpoint === 'predict-10000');
  checks.push({
    name: '/predict (10,000 rows): predictions per second',
    target: 'reported',
    measured: big.length
      ? big.map((item) => `${number(item.servicePredictionsPerSecond ?? 0)}/s ${item.via} at ${item.connections} conn`).join('; ')
      : 'not measured',
    met: big.length ? true : null,
  });
  checks.push({
    name: `Switch under load: failed requests over ${TARGETS.switches} switches`,
    target: '0',
    measured: switching
      ? `${switching.failedRequests} of ${number(switching.load.requests)} over ${switching.switches} switches${switching.records.every((record) => record.ok) ? '' : ' (a switch failed)'}`
      : 'not measured',
    met: switching ? switching.failedRequests === 0 && switching.records.every((record) => record.ok) : null,
  });
  const colorsOf = (label: MemorySnapshot['label']) =>
    memory.find((snapshot) => snapshot.label === label)?.processes.filter((item) => /^service (blue|green)/.test(item.name)) ?? [];
  const describeColors = (items: readonly { name: string; rssMb: number | null }[]) =>
    items.map((item) => `${item.name.replace('service ', '')} ${item.rssMb ?? '?'} MB`).join(', ');
  const after = colorsOf('after load');
  const settled = colorsOf('settled');
  const peak = colorsOf('peak under load');
  checks.push({
    name: 'RSS of each color after load',
    target: `< ${TARGETS.colorRssMb} MB`,
    measured: after.length
      ? `${describeColors(after)} right after the load${settled.length ? `; ${describeColors(settled)} settled` : ''}${peak.length ? `; peak ${describeColors(peak)}` : ''}`
      : 'not measured',
    // Judged on what a color keeps once the load is over (settled, when read): right after the load
    // its RSS still holds the garbage of the last seconds, which the service's idle GC gives back.
    met: after.length ? Math.max(...(settled.length ? settled : after).map((item) => item.rssMb ?? 0)) < TARGETS.colorRssMb : null,
  });
  checks.push(
    rssVsBaseline(memory, 'settled', TARGETS.settledRssVsBaseline),
    rssVsBaseline(memory, 'peak under load', TARGETS.peakRssVsBaseline),
  );
  return checks;
}

/** The live color's RSS at `label` against the bare baseline server's at the same moment. */
function rssVsBaseline(memory: readonly MemorySnapshot[], label: MemorySnapshot['label'], most: number): TargetCheck {
  const processes = memory.find((snapshot) => snapshot.label === label)?.processes ?? [];
  const live = processes.find((item) => /^service (blue|green) \(live\)$/.test(item.name))?.rssMb ?? null;
  const baseline = processes.find((item) => item.name === 'baseline server')?.rssMb ?? null;
  const measured = live === null || baseline === null ? null : live / baseline;
  return {
    name: `RSS of the live color ${label === 'settled' ? 'settled after the load' : 'at its peak under the load'} vs the bare baseline's`,
    target: `≤ ${most}x`,
    measured: measured === null ? 'not measured' : `${ratio(measured)} (${live} vs ${baseline} MB)`,
    met: measured === null ? null : measured <= most,
  };
}

function casesTable(cases: readonly CaseResult[]): string[] {
  const lines = [
    '| endpoint | conn | via | service req/s | baseline req/s | ratio | service p99 ms | baseline p99 ms | service CPU µs/req | baseline CPU µs/req | nginx CPU µs/req (service / baseline) | autocannon CPU µs/req |',
    '|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const item of cases) {
    const base = item.baseline;
    lines.push(
      `| ${item.label} | ${item.connections} | ${item.via} | ${number(item.service.requestsPerSecond)} | ${base ? number(base.requestsPerSecond) : '–'} | ${ratio(item.ratio)} | ` +
        `${ms(item.service.latencyP99Ms)} | ${ms(base?.latencyP99Ms)} | ${cpu(item.service.serverCpuUsPerRequest)} | ${cpu(base?.serverCpuUsPerRequest ?? null)} | ` +
        `${item.via === 'nginx' ? `${cpu(item.service.proxyCpuUsPerRequest)} / ${cpu(base?.proxyCpuUsPerRequest ?? null)}` : '–'} | ${cpu(item.service.loadCpuUsPerRequest)} |`,
    );
  }
  return lines;
}

function predictionsLines(cases: readonly CaseResult[]): string[] {
  const big = cases.filter((item) => item.endpoint === 'predict-10000');
  if (big.length === 0) return [];
  return [
    '',
    '10,000-row `/predict`, predictions per second (service / baseline):',
    '',
    ...big.map(
      (item) =>
        `- ${item.via}, ${item.connections} conn: ${number(item.servicePredictionsPerSecond ?? 0)} / ${item.baselinePredictionsPerSecond === null ? '–' : number(item.baselinePredictionsPerSecond)}`,
    ),
  ];
}

function switchLines(switching: SwitchUnderLoad | null): string[] {
  if (!switching) return [];
  const { load } = switching;
  return [
    '',
    `### Switch under load (${switching.switches} switches, ${switching.connections} keep-alive connections POSTing /predict through nginx)`,
    '',
    '| requests | 2xx req/s | non-2xx | socket errors | timeouts | resets | nginx serves the new color after (p50 / max) | switch command (p50 / max) |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|',
    `| ${number(load.requests)} | ${number(load.requestsPerSecond)} | ${load.non2xx} | ${load.errors} | ${load.timeouts} | ${load.resets} | ${ms(switching.servedAfterMs.p50)} / ${ms(switching.servedAfterMs.max)} ms | ${ms(switching.commandMs.p50)} / ${ms(switching.commandMs.max)} ms |`,
    '',
    `A /health poller watched nginx during each switch: ${switching.pollerRequests} requests, ${switching.pollerFailures} failed.`,
    '',
    `Each switch, nginx serving the new color after (ms): ${switching.records
      .map((record) => (record.ok ? (record.servedAfterMs === null ? 'not seen' : ms(record.servedAfterMs)) : 'failed'))
      .join(', ')}.`,
  ];
}

function memoryLines(memory: readonly MemorySnapshot[]): string[] {
  if (memory.length === 0) return [];
  const names = memory[0].processes.map((item) => item.name);
  return [
    '',
    '### Memory (RSS, MB; nginx = master + workers)',
    '',
    `| process | ${memory.map((snapshot) => snapshot.label).join(' | ')} |`,
    `|---|${memory.map(() => '--:').join('|')}|`,
    ...names.map(
      (name) =>
        `| ${name} | ${memory.map((snapshot) => snapshot.processes.find((item) => item.name === name)?.rssMb ?? '–').join(' | ')} |`,
    ),
  ];
}

/** The markdown report of a run. Pure. */
export function renderMarkdown(result: BenchResult): string {
  const { machine } = result;
  const lines = [
    `## Benchmark, ${machine.date.slice(0, 10)}`,
    '',
    `${machine.cpuModel}, ${machine.cores} cores, ${number(machine.memoryMb / 1024, 1)} GB; ${machine.os}; Node ${machine.node}; nginx ${machine.nginx ?? '?'}; ` +
      `autocannon ${machine.autocannon}; load average at start ${machine.loadAverageAtStart.toFixed(2)}. ` +
      `${result.options.repeats} run(s) of ${result.options.durationSeconds} s per case and side, alternating; medians; ratio = service / baseline req/s, paired runs.`,
    '',
    ...casesTable(result.cases),
    ...predictionsLines(result.cases),
    // Results written before the router comparison have no `routers`.
    ...routerLines(result.routers ?? []),
    ...switchLines(result.switchUnderLoad),
    ...memoryLines(result.memory),
    '',
    '### Targets',
    '',
    '| target | goal | measured | met |',
    '|---|---|---|---|',
    ...result.targets.map(
      (check) => `| ${check.name} | ${check.target} | ${check.measured} | ${check.met === null ? '–' : check.met ? 'yes' : '**no**'} |`,
    ),
    '',
    result.allSucceeded ? 'Every request succeeded.' : `**Requests failed:**\n${result.failures.map((line) => `- ${line}`).join('\n')}`,
    '',
  ];
  return lines.join('\n');
}
