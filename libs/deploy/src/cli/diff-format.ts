import type { DiffResult } from '../commands/shadow/diff';
import { type DiffReport, percent } from '../gates';

/** The `deploy:diff` report for people: a table, a text histogram of the differences, the verdict. Pure. */

const BAR_WIDTH = 40;

export function formatDiff(result: DiffResult): string[] {
  const { report } = result;
  const who = (side: DiffReport['live']) => `${side.color} ${side.version ?? '(version unknown)'}`;
  const { absolute, relative } = report.tolerance;
  const latency = (side: 'live' | 'candidate') => {
    const summary = report.latencyMs[side];
    return summary ? `mean ${ms(summary.mean)}, p50 ${ms(summary.p50)}, p99 ${ms(summary.p99)}` : '-';
  };
  const rows: [string, string][] = [
    [
      'source',
      report.source === 'shadow' ? 'shadow traffic (records joined by request id)' : 'replayed file (sent to both colors directly)',
    ],
    ['live', who(report.live)],
    ['candidate', who(report.candidate)],
    ['pairs compared', String(report.pairs)],
    ['unpaired', `${report.unpaired.live} live only, ${report.unpaired.candidate} candidate only`],
    ...(report.inputMismatches > 0
      ? [['input mismatches', `${report.inputMismatches} (same request id, different input: not compared)`] as [string, string]]
      : []),
    ...(report.shapeMismatches > 0
      ? [['shape mismatches', `${report.shapeMismatches} (different rows or outputs: counted as outside tolerance)`] as [string, string]]
      : []),
    ['tolerance', `|diff| <= ${absolute} + ${relative} x |live|`],
    [
      'within tolerance',
      report.withinShare === null ? '-' : `${report.withinTolerance} of ${report.pairs} (${percent(report.withinShare)})`,
    ],
    [
      'abs diff',
      report.absDiff
        ? `mean ${num(report.absDiff.mean)}, p99 ${num(report.absDiff.p99)}, max ${num(report.absDiff.max)} (over ${report.absDiff.values} values)`
        : '-',
    ],
    ...(report.classifier
      ? [
          ['label agreement', `${percent(report.classifier.labelAgreement)} of ${report.classifier.rows} rows`] as [string, string],
          ['largest prob. shift', num(report.classifier.largestProbabilityShift)] as [string, string],
        ]
      : []),
    [`latency ${report.live.color}`, latency('live')],
    [`latency ${report.candidate.color}`, latency('candidate')],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const lines = [
    `Prediction diff: ${who(report.candidate)} against the live ${who(report.live)}`,
    ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`),
  ];
  if (report.histogram.length > 0) {
    lines.push('', '  |diff| histogram (values):');
    const most = Math.max(...report.histogram.map((bin) => bin.count));
    const labels = report.histogram.map((bin) => `${num(bin.from)} - ${num(bin.to)}`);
    const labelWidth = Math.max(...labels.map((label) => label.length));
    report.histogram.forEach((bin, i) => {
      const bar = '#'.repeat(most === 0 ? 0 : Math.round((bin.count / most) * BAR_WIDTH));
      lines.push(`  ${(labels[i] ?? '').padStart(labelWidth)} | ${bar.padEnd(BAR_WIDTH)} ${bin.count}`);
    });
  }
  if (report.largest.length > 0 && (report.absDiff?.max ?? 0) > 0) {
    lines.push('', `  largest differences: ${report.largest.map((item) => `${item.requestId} (${num(item.maxAbsDiff)})`).join(', ')}`);
  }
  for (const note of result.notes) lines.push(`Note: ${note}`);
  if (result.judged)
    lines.push(result.problems.length === 0 ? 'PASSED: within the limits asked for.' : `FAILED: ${result.problems.join('; ')}.`);
  return lines;
}

function num(value: number): string {
  if (value === 0) return '0';
  return Math.abs(value) >= 0.001 && Math.abs(value) < 1e6 ? value.toFixed(4) : value.toExponential(2);
}

function ms(value: number): string {
  return `${value.toFixed(2)} ms`;
}
