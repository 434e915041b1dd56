import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { LatencySummary } from './latency';
import { cpuMicros } from './proc';

/** One load run: a fixed request, a number of keep-alive connections, a duration. */
export interface LoadRequest {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly body?: string;
  readonly connections: number;
  readonly durationSeconds: number;
  /** Unix socket to connect to instead of the URL's host and port. */
  readonly socketPath?: string;
}

/** What a run measured. Every request that did not get a 2xx shows up in one of the failure counts. */
export interface LoadResult {
  readonly requests: number;
  readonly durationSeconds: number;
  readonly requestsPerSecond: number;
  readonly latency: LatencySummary;
  readonly non2xx: number;
  /** Socket errors (connection refused, reset, ...), timeouts included. */
  readonly errors: number;
  readonly timeouts: number;
  /** Connections autocannon had to reset. */
  readonly resets: number;
  /** Statuses seen, e.g. `{"200": 1234}`. */
  readonly statuses: Readonly<Record<string, number>>;
}

/** A run, and the CPU time (µs) the load generator spent on it when that can be read. */
export interface LoadRun {
  readonly result: LoadResult;
  readonly cpuMicros: number | undefined;
}

/** What a measured run needs of a load generator: autocannon's worker, or wrk (`wrk.ts`). */
export interface LoadSource {
  /** Shown in reports: `autocannon` or `wrk`. */
  readonly name: string;
  measure(request: LoadRequest): Promise<LoadRun>;
}

/** Requests that did not get a 2xx answer (autocannon's `errors` already include its timeouts). */
export function failedCount(result: Pick<LoadResult, 'non2xx' | 'errors' | 'resets'>): number {
  return result.non2xx + result.errors + result.resets;
}

/** True when every request got a 2xx answer: no non-2xx, no socket error, no timeout, at least one request. */
export function allSucceeded(result: Pick<LoadResult, 'requests' | 'non2xx' | 'errors' | 'timeouts' | 'resets'>): boolean {
  return result.requests > 0 && result.non2xx === 0 && result.errors === 0 && result.timeouts === 0 && result.resets === 0;
}

/** Messages between the bench and its load process. */
export type ToWorker = { type: 'run'; id: number; request: LoadRequest } | { type: 'stop' };
export type FromWorker =
  { type: 'ready' } | { type: 'result'; id: number; result: LoadResult } | { type: 'error'; id: number; message: string };

/**
 * autocannon sends the next request as soon as a response is complete, without reading its
 * `Connection: close`; nginx closes each keep-alive client connection after `keepalive_requests`
 * (1,000 by default), so now and then a request would be written into a closing connection and
 * count as a socket error that no HTTP client honouring `Connection: close` would see. Reconnecting
 * just before that limit keeps the count about the server. Every target is loaded the same way.
 */
export const RECONNECT_EVERY = 999;

const WORKER = join(__dirname, 'load-worker.ts');
const TSCONFIG = join(__dirname, '..', 'tsconfig.lib.json');

/**
 * autocannon in a process of its own: the bench's own work (starting processes, switching, polling)
 * never delays the load, and the load never delays the switch it measures. Service and baseline are
 * loaded by the very same process, one after the other, so its cost weighs on both alike.
 */
/** The load process, not yet ready: it sends `{ type: 'ready' }` first. */
export function forkLoadWorker(): ChildProcess {
  return fork(WORKER, [], {
    execArgv: ['-r', '@swc-node/register'],
    env: { ...process.env, SWC_NODE_PROJECT: TSCONFIG },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

export class LoadGenerator implements LoadSource {
  readonly name = 'autocannon';
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (result: LoadResult) => void; reject: (error: Error) => void }>();
  private exited = false;

  /** The load process, whose CPU per request the bench reports too (is the generator the bottleneck?). */
  readonly pid: number;

  private constructor(private readonly child: ChildProcess) {
    this.pid = child.pid ?? 0;
    child.on('message', (message: FromWorker) => {
      if (message.type === 'ready') return;
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.type === 'result') waiter.resolve(message.result);
      else waiter.reject(new Error(`load run failed: ${message.message}`));
    });
    child.once('exit', (code, signal) => {
      this.exited = true;
      for (const waiter of this.pending.values()) waiter.reject(new Error(`the load process exited (${signal ?? code})`));
      this.pending.clear();
    });
  }

  static start(): Promise<LoadGenerator> {
    const child = forkLoadWorker();
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the load process exited with ${code} before it was ready`)));
      child.once('message', (message: FromWorker) => {
        if (message.type === 'ready') resolve(new LoadGenerator(child));
      });
    });
  }

  run(request: LoadRequest): Promise<LoadResult> {
    if (this.exited) return Promise.reject(new Error('the load process has exited'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ type: 'run', id, request } satisfies ToWorker);
    });
  }

  async measure(request: LoadRequest): Promise<LoadRun> {
    const before = cpuMicros(this.pid);
    const result = await this.run(request);
    const after = cpuMicros(this.pid);
    return { result, cpuMicros: before === undefined || after === undefined ? undefined : after - before };
  }

  /** Ends the current run early; its result covers the time it ran. */
  stop(): void {
    if (!this.exited) this.child.send({ type: 'stop' } satisfies ToWorker);
  }

  close(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}
