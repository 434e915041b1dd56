import autocannon from 'autocannon';

/** One load run: a fixed request, a number of keep-alive connections, a duration. */
export interface LoadRequest {
  url: string;
  method: 'GET' | 'POST';
  body?: string;
  connections: number;
  durationSeconds: number;
  /** Unix socket to connect to instead of the URL's host and port. */
  socketPath?: string;
}

/** What a run measured; requests per second and latencies as autocannon reports them. */
export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

/** Runs autocannon; `onTick` gets each second's request count, for progress output. */
export function runLoad(request: LoadRequest, onTick?: (requestsSoFar: number) => void): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const instance = autocannon(
      {
        url: request.url,
        method: request.method,
        body: request.body,
        headers: request.body ? { 'content-type': 'application/json' } : {},
        connections: request.connections,
        duration: request.durationSeconds,
        socketPath: request.socketPath,
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          requests: result.requests.total,
          requestsPerSecond: result.requests.average,
          latencyP50Ms: result.latency.p50,
          latencyP99Ms: result.latency.p99,
          latencyMaxMs: result.latency.max,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
        });
      },
    );
    instance.on('response', () => {
      seen++;
    });
    const ticker = setInterval(() => onTick?.(seen), 1000);
    instance.on('done', () => clearInterval(ticker));
  });
}

/** True when every request got a 2xx answer: no socket error, no timeout. */
export function allSucceeded(result: LoadResult): boolean {
  return result.non2xx === 0 && result.errors === 0 && result.timeouts === 0 && result.requests > 0;
}
