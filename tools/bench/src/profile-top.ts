/**
 * The top functions of a V8 CPU profile (`node --cpu-prof`), by self time and by total time.
 *
 *   nx run bench:profile-top -- <file.cpuprofile> [--top=25] [--all]
 *
 * Startup (module loading) and idle time are left out unless --all: what remains is the cost of
 * serving requests. Paths are shortened to `package/file:line` or `dist/...:line`.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
/** The `.cpuprofile` format (Chrome DevTools protocol `Profiler.Profile`). */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface FunctionTime {
  readonly name: string;
  /** Share of the counted time, in percent. */
  readonly percent: number;
  readonly ms: number;
}

export interface ProfileSummary {
  /** Milliseconds counted (without idle and startup unless `all`). */
  readonly countedMs: number;
  readonly self: readonly FunctionTime[];
  readonly total: readonly FunctionTime[];
}

/** Samples in these (or below them) are not request work: waiting, and loading modules at startup. */
const NOT_REQUEST_WORK = /^\((idle|program)\) |^(Module\._load|Module\._compile|wrapSafe|compileFunction|require) /;

export function frameName(frame: CallFrame): string {
  const path = frame.url.replace(/^file:\/\//, '');
  const where = path.includes('/node_modules/') ? path.replace(/.*\/node_modules\//, '') : path.replace(/.*\/dist\//, 'dist/');
  return `${frame.functionName || '(anonymous)'} ${where}${where ? `:${frame.lineNumber + 1}` : ''}`;
}

/** The name frameName gives V8's root node, the bottom of every stack: not a function. */
export const ROOT_FRAME = '(root) ';

/** One sample: its stack of frame names, innermost first (ending with ROOT_FRAME), and its time. */
export interface Sample {
  readonly stack: readonly string[];
  readonly micros: number;
}

/** Every sample with its stack; without idle and module loading unless `all`. Pure. */
export function profileSamples(profile: CpuProfile, options: { all: boolean }): Sample[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const samples: Sample[] = [];
  profile.samples.forEach((sample, index) => {
    const stack: string[] = [];
    for (let id: number | undefined = sample; id !== undefined; id = parentOf.get(id)) {
      const node = byId.get(id);
      if (node) stack.push(frameName(node.callFrame));
    }
    if (options.all || !stack.some((name) => NOT_REQUEST_WORK.test(name))) samples.push({ stack, micros: profile.timeDeltas[index] ?? 0 });
  });
  return samples;
}

/** Self and total (inclusive) time per function. Pure. */
export function summariseProfile(profile: CpuProfile, options: { top: number; all: boolean }): ProfileSummary {
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let counted = 0;
  for (const { stack, micros } of profileSamples(profile, options)) {
    counted += micros;
    self.set(stack[0], (self.get(stack[0]) ?? 0) + micros);
    for (const name of new Set(stack)) total.set(name, (total.get(name) ?? 0) + micros);
  }
  const rank = (times: Map<string, number>) =>
    [...times.entries()]
      .filter(([name]) => name !== ROOT_FRAME)
      .sort((a, b) => b[1] - a[1])
      .slice(0, options.top)
      .map(([name, micros]) => ({
        name,
        percent: counted > 0 ? Math.round((micros / counted) * 1000) / 10 : 0,
        ms: Math.round(micros / 100) / 10,
      }));
  return { countedMs: Math.round(counted / 100) / 10, self: rank(self), total: rank(total) };
}

function main(argv: readonly string[]): number {
  const file = argv.find((arg) => !arg.startsWith('--'));
  if (!file) {
    console.error('usage: profile-top <file.cpuprofile> [--top=25] [--all]');
    return 2;
  }
  const top = Number(/^--top=(\d+)$/.exec(argv.find((arg) => arg.startsWith('--top=')) ?? '')?.[1] ?? 25);
  const summary = summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, { top, all: argv.includes('--all') });
  const table = (rows: readonly FunctionTime[]) =>
    rows.map((row) => `${row.percent.toFixed(1).padStart(6)}%  ${row.ms.toFixed(1).padStart(9)} ms  ${row.name}`).join('\n');
  console.log(
    `${summary.countedMs} ms of samples${argv.includes('--all') ? '' : ' (idle and module loading left out)'}\n\nSelf time:\n${table(summary.self)}\n\nTotal time (the function and what it calls):\n${table(summary.total)}`,
  );
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
