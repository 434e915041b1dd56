/**
 * `nx run bench:run`: the benchmark's command line. Prints progress, then a markdown report (or the
 * JSON with --json), writes the JSON under tools/bench/results/, and exits 1 if any request failed.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { BenchAborted, WORKSPACE_ROOT, runBench } from './bench';
import { USAGE, parseBenchArgs } from './options';
import { renderMarkdown } from './report';
import type { BenchResult } from './result';

const RESULTS_DIR = join(WORKSPACE_ROOT, 'tools/bench/results');
const REFERENCE_FILE = join(RESULTS_DIR, 'reference.json');

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseBenchArgs(argv);
  if (!parsed.ok) {
    console.error(`bench: ${parsed.message}\n\n${USAGE}`);
    return 2;
  }
  const { options } = parsed;
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  if (options.render) {
    process.stdout.write(renderMarkdown(JSON.parse(readFileSync(resolve(process.cwd(), options.render), 'utf8')) as BenchResult));
    return 0;
  }
  const abort = new AbortController();
  // A reader that went away (`... | head`) ends the run as Ctrl-C does: everything started is stopped.
  let stdoutClosed = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stdoutClosed = true;
    abort.abort();
  });
  const write = (stream: NodeJS.WriteStream, text: string) => {
    if (stream !== process.stdout || !stdoutClosed) stream.write(text);
  };
  const progress = (line: string) => write(options.json ? process.stderr : process.stdout, `${line}\n`);
  let interrupted = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted += 1;
    if (interrupted > 1) process.exit(130); // a second Ctrl-C: leave now
    progress(`${signal}: stopping the load and everything the bench started (Ctrl-C again to leave at once)...`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const result = await runBench(options, { progress, signal: abort.signal });
    const stamp = result.machine.date.replace(/[:.]/g, '-');
    const out = options.out ? resolve(process.cwd(), options.out) : join(RESULTS_DIR, `bench-${stamp}.json`);
    const text = `${JSON.stringify(result, null, 2)}\n`;
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, text);
    if (options.reference) writeFileSync(REFERENCE_FILE, text);
    write(process.stdout, options.json ? text : `\n${renderMarkdown(result)}`);
    progress(`Wrote ${out}${options.reference ? ` and ${REFERENCE_FILE}` : ''}.`);
    return result.allSucceeded ? 0 : 1;
  } catch (error) {
    if (error instanceof BenchAborted) {
      progress('Interrupted; everything the bench started was stopped.');
      return 130;
    }
    console.error(`bench: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
