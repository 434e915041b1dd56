/**
 * wrk (the C load generator) as a second instrument beside autocannon, for the router comparison.
 *
 * Why a second one: autocannon is a Node process that costs about as much CPU per request as the
 * color itself. On a 2-core machine it takes a core from the system under test, and the router
 * (which needs CPU of its own) loses more from that than the direct path does; the ratio then says as
 * much about the client as about nginx. wrk costs a fraction of that. Both are run and reported.
 * wrk is an external binary (Debian `wrk`); without it the bench says so and measures with autocannon only.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadRequest, LoadResult, LoadRun, LoadSource } from './load';
import { cpuMicros } from './proc';

/** How often the wrk process's CPU time is read while it runs (it can not be read after it exited). */
const CPU_SAMPLE_MS = 50;
/** wrk ends on its own after `-d`; this is only against a hung one. */
const EXIT_MARGIN_MS = 10_000;

/**
 * `done()` prints one JSON line: wrk's own totals and its latency percentiles (microseconds).
 * `errors.status` counts answers of 400 and above; wrk does not tell statuses apart.
 */
const SCRIPT = `
wrk.method = os.getenv("MLBG_WRK_METHOD")
local body = os.getenv("MLBG_WRK_BODY")
if body ~= nil and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('MLBG_WRK {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
`;

interface WrkTotals {
  readonly requests: number;
  readonly durationUs: number;
  readonly connect: number;
  readonly read: number;
  readonly write: number;
  readonly status: number;
  readonly timeout: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** The `wrk` binary on PATH, or undefined. */
export function findWrk(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path ? path : undefined;
}

/** wrk's result line as a LoadResult. Pure. */
export function parseWrkOutput(stdout: string): LoadResult {
  const line = stdout.split('\n').find((text) => text.startsWith('MLBG_WRK '));
  if (!line) throw new Error(`wrk printed no result line; it said:\n${stdout.slice(-2000)}`);
  const totals = JSON.parse(line.slice('MLBG_WRK '.length)) as WrkTotals;
  const durationSeconds = totals.durationUs / 1e6;
  const ms = (micros: number) => micros / 1000;
  const socketErrors = totals.connect + totals.read + totals.write + totals.timeout;
  return {
    requests: totals.requests,
    durationSeconds,
    requestsPerSecond: durationSeconds > 0 ? totals.requests / durationSeconds : 0,
    latency: { p50Ms: ms(totals.p50), p90Ms: ms(totals.p90), p99Ms: ms(totals.p99), maxMs: ms(totals.max), meanMs: ms(totals.mean) },
    non2xx: totals.status,
    errors: socketErrors,
    timeouts: totals.timeout,
    resets: 0,
    statuses: { '2xx/3xx': totals.requests - totals.status, ...(totals.status > 0 ? { '4xx/5xx': totals.status } : {}) },
  };
}

/** A fresh wrk process per run: one thread, the request's connections and duration. */
export class WrkGenerator implements LoadSource {
  readonly name = 'wrk';
  private readonly dir = mkdtempSync(join(tmpdir(), 'mlbg-bench-wrk-'));
  private readonly script = join(this.dir, 'request.lua');

  constructor(private readonly binary: string) {
    writeFileSync(this.script, SCRIPT);
  }

  /** The CPU time is the last sample of the running process: within {@link CPU_SAMPLE_MS} of its total. */
  measure(request: LoadRequest): Promise<LoadRun> {
    if (request.socketPath) return Promise.reject(new Error('wrk can not connect to a unix socket; measure a URL'));
    const args = ['-t1', `-c${request.connections}`, `-d${request.durationSeconds}s`, '--latency', '-s', this.script, request.url];
    const child = spawn(this.binary, args, {
      env: { ...process.env, MLBG_WRK_METHOD: request.method, MLBG_WRK_BODY: request.body ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let cpu: number | undefined;
    const sampler = setInterval(() => {
      if (child.pid !== undefined) cpu = cpuMicros(child.pid) ?? cpu;
    }, CPU_SAMPLE_MS);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), request.durationSeconds * 1000 + EXIT_MARGIN_MS);
    return new Promise((resolve, reject) => {
      child.once('error', (error) => reject(new Error(`could not run ${this.binary}: ${error.message}`)));
      child.once('close', (code, signal) => {
        clearInterval(sampler);
        clearTimeout(guard);
        if (code !== 0) {
          reject(new Error(`wrk exited with ${signal ?? code}: ${stderr.trim() || stdout.trim()}`));
          return;
        }
        try {
          resolve({ result: parseWrkOutput(stdout), cpuMicros: cpu });
        } catch (error) {
          reject(error as Error);
        }
      });
    });
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
