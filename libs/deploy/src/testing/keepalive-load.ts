import { Agent, request } from 'node:http';

/** One answer (or failure) a load client saw. */
export interface Seen {
  /** ms since the load began, when the answer (or the failure) came. */
  readonly at: number;
  /** ms since the load began, when the request was sent: `at - sent` is how long the client waited. */
  readonly sent: number;
  /** The HTTP status, or 0 when the request failed without one. */
  readonly status: number;
  readonly color: string | undefined;
  /** The error code of a failed request, or the router's JSON error code of a non-2xx answer. */
  readonly problem: string | undefined;
}

export interface LoadReport {
  readonly total: number;
  readonly ok: number;
  readonly failed: readonly Seen[];
  /** First to last failed request, in ms (0 with one failure, null with none). */
  readonly windowMs: number | null;
  readonly firstFailureAt: number | null;
  readonly lastFailureAt: number | null;
  /** Every answer, in order of arrival (for "after the window, all 2xx from the same color"). */
  readonly seen: readonly Seen[];
}

/**
 * `clients` keep-alive clients POSTing `body` to `path` in a loop, each waiting for its answer
 * before sending again; every answer and every failed request is counted, with its time, status
 * and the X-Color that answered. Stop with `stop()`; it resolves once every client has finished
 * its last request.
 */
/** Loads still running: a test that fails between start and stop leaves its load to `stopAllLoads`. */
const running = new Set<() => Promise<unknown>>();

/** Stops every load still running (call it in afterEach: a failed assertion skips the test's own stop). */
export async function stopAllLoads(): Promise<void> {
  await Promise.all([...running].map((stop) => stop()));
}

/** No load runs longer than this, whatever its test does: load tests are bounded in time. */
const MAX_LOAD_MS = 180_000;

export function keepAliveLoad(options: { port: number; clients: number; path: string; body: string; timeoutMs?: number }): {
  readonly started: number;
  stop(): Promise<LoadReport>;
  /** Answers so far. */
  count(): number;
  /** Every answer so far (the load goes on). */
  seen(): readonly Seen[];
} {
  const agent = new Agent({ keepAlive: true, maxSockets: options.clients });
  const started = Date.now();
  const seen: Seen[] = [];
  let sending = true;
  const one = () =>
    new Promise<void>((resolve) => {
      const sent = Date.now() - started;
      const req = request(
        {
          host: '127.0.0.1',
          port: options.port,
          method: 'POST',
          path: options.path,
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(options.body) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const header = res.headers['x-color'];
            const problem = status >= 200 && status < 300 ? undefined : (/"code":"([A-Z_]+)"/.exec(text)?.[1] ?? `HTTP ${status}`);
            seen.push({ at: Date.now() - started, sent, status, color: Array.isArray(header) ? header[0] : header, problem });
            resolve();
          });
          res.on('error', (error: NodeJS.ErrnoException) => {
            seen.push({ at: Date.now() - started, sent, status: 0, color: undefined, problem: error.code ?? error.message });
            resolve();
          });
        },
      );
      req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'CLIENT_TIMEOUT' })));
      req.on('error', (error: NodeJS.ErrnoException) => {
        seen.push({ at: Date.now() - started, sent, status: 0, color: undefined, problem: error.code ?? error.message });
        resolve();
      });
      req.end(options.body);
    });
  const deadline = started + MAX_LOAD_MS;
  const client = async () => {
    while (sending && Date.now() < deadline) await one();
  };
  const clients = Array.from({ length: options.clients }, () => client());
  const stop = async (): Promise<LoadReport> => {
    sending = false;
    running.delete(stop);
    await Promise.all(clients);
    agent.destroy();
    return summarize(seen);
  };
  running.add(stop);
  return {
    started,
    count: () => seen.length,
    seen: () => [...seen],
    stop,
  };
}

export function summarize(seen: readonly Seen[]): LoadReport {
  const failed = seen.filter((item) => item.status < 200 || item.status >= 300);
  const first = failed[0]?.at ?? null;
  const last = failed.at(-1)?.at ?? null;
  return {
    total: seen.length,
    ok: seen.length - failed.length,
    failed,
    windowMs: first === null || last === null ? null : last - first,
    firstFailureAt: first,
    lastFailureAt: last,
    seen,
  };
}

/** How the failures were spread: `{ "LIVE_UNAVAILABLE": 120, "ECONNRESET": 2 }`. */
export function failureKinds(report: LoadReport): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const item of report.failed) kinds[item.problem ?? '?'] = (kinds[item.problem ?? '?'] ?? 0) + 1;
  return kinds;
}
