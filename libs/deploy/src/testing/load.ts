/**
 * Keep-alive load through nginx for the weight and canary tests: autocannon POSTing /predict,
 * every response counted by the model version that answered, bounded in time.
 */

// autocannon ships no types; these are the parts the tests use.
export interface AutocannonResult {
  readonly requests: { readonly total: number };
  readonly '2xx': number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly resets: number;
  readonly mismatches: number;
}
type Autocannon = (options: Record<string, unknown>, done: (error: Error | null, result: AutocannonResult) => void) => { stop(): void };
const autocannon = require('autocannon') as Autocannon;

export const PREDICT_BODY = JSON.stringify({ features: [[1], [2], [3]] });

/** Responses seen so far, by version (or `status N` when it was not a 2xx with a version). */
export interface LoadCounts {
  total: number;
  notOk: number;
  byVersion: Map<string, number>;
}

export interface RunningLoad {
  readonly counts: LoadCounts;
  /** Resolves when `total` reaches `count` (or rejects when the load ends first). */
  waitFor(count: number): Promise<void>;
  stop(): Promise<AutocannonResult>;
}

/** Starts `connections` keep-alive clients against `url`; stops by itself after `maxSeconds`. */
export function startLoad(
  url: string,
  options: { connections: number; maxSeconds: number; headers?: Record<string, string> },
): RunningLoad {
  const counts: LoadCounts = { total: 0, notOk: 0, byVersion: new Map() };
  const waiters: { count: number; resolve: () => void }[] = [];
  let instance: { stop(): void } | undefined;
  let ended = false;
  const finished = new Promise<AutocannonResult>((resolve, reject) => {
    instance = autocannon(
      {
        url,
        connections: options.connections,
        pipelining: 1,
        // nginx closes a client connection after 1,000 requests and autocannon does not read `Connection: close`.
        reconnectRate: 999,
        duration: options.maxSeconds,
        timeout: 10,
        requests: [
          {
            method: 'POST',
            path: '/predict',
            headers: { 'content-type': 'application/json', ...(options.headers ?? {}) },
            body: PREDICT_BODY,
            onResponse: (status: number, body: string) => {
              counts.total += 1;
              if (status < 200 || status >= 300) counts.notOk += 1;
              const version = /"model_version":"([^"]+)"/.exec(body)?.[1] ?? `status ${status}`;
              counts.byVersion.set(version, (counts.byVersion.get(version) ?? 0) + 1);
              for (const waiter of waiters.filter((item) => counts.total >= item.count)) {
                waiters.splice(waiters.indexOf(waiter), 1);
                waiter.resolve();
              }
            },
          },
        ],
      },
      (error, result) => {
        ended = true;
        return error ? reject(error) : resolve(result);
      },
    );
  });
  return {
    counts,
    waitFor: (count) =>
      counts.total >= count
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiters.push({ count, resolve });
            void finished.then(() =>
              ended && counts.total < count
                ? reject(new Error(`the load ended after ${counts.total} responses, before ${count}`))
                : undefined,
            );
          }),
    stop: () => {
      instance?.stop();
      return finished;
    },
  };
}

/** A copy of the counts, to subtract later. */
export function snapshot(counts: LoadCounts): LoadCounts {
  return { total: counts.total, notOk: counts.notOk, byVersion: new Map(counts.byVersion) };
}

/** What was counted between `before` and `after`. */
export function since(before: LoadCounts, after: LoadCounts): LoadCounts {
  const byVersion = new Map<string, number>();
  for (const [version, count] of after.byVersion) byVersion.set(version, count - (before.byVersion.get(version) ?? 0));
  return { total: after.total - before.total, notOk: after.notOk - before.notOk, byVersion };
}
