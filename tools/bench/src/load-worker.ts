/**
 * The load process (see LoadGenerator): runs one autocannon job at a time on request of the bench
 * and answers with its result. Latencies are recorded here at 10 µs resolution.
 */
import autocannon from 'autocannon';
import { LatencyHistogram } from './latency';
import { type FromWorker, type LoadRequest, type LoadResult, RECONNECT_EVERY, type ToWorker } from './load';

/** A request that gets no answer in this time is a timeout (counted as a failure). */
const REQUEST_TIMEOUT_SECONDS = 10;

let current: autocannon.Instance | undefined;

function reply(message: FromWorker): void {
  if (process.connected) process.send?.(message);
}

function run(id: number, request: LoadRequest): void {
  const latencies = new LatencyHistogram();
  const instance = autocannon(
    {
      url: request.url,
      method: request.method,
      ...(request.body === undefined ? {} : { body: request.body, headers: { 'content-type': 'application/json' } }),
      ...(request.socketPath ? { socketPath: request.socketPath } : {}),
      connections: request.connections,
      pipelining: 1,
      reconnectRate: RECONNECT_EVERY,
      duration: request.durationSeconds,
      timeout: REQUEST_TIMEOUT_SECONDS,
    },
    (error, result) => {
      current = undefined;
      if (error) {
        reply({ type: 'error', id, message: String(error) });
        return;
      }
      const statuses: Record<string, number> = {};
      for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = stat.count ?? 0;
      const durationSeconds = result.duration;
      const answer: LoadResult = {
        requests: result.requests.total,
        durationSeconds,
        requestsPerSecond: durationSeconds > 0 ? result.requests.total / durationSeconds : 0,
        latency: latencies.summary(),
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        resets: result.resets,
        statuses,
      };
      reply({ type: 'result', id, result: answer });
    },
  );
  instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTimeMs: number) => latencies.record(responseTimeMs));
  current = instance;
}

// The bench is gone (it crashed or was killed): stop loading its servers and leave.
process.on('disconnect', () => {
  current?.stop();
  process.exit(0);
});

process.on('message', (message: ToWorker) => {
  if (message.type === 'run') run(message.id, message.request);
  else current?.stop();
});
process.on('SIGINT', () => undefined); // the bench decides when this process ends
reply({ type: 'ready' });
