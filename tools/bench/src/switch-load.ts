import { otherColor, type Color } from '@mlbg/contract';
import { predictBody } from './payloads';
import { probe } from './http-probe';
import { type LoadGenerator, failedCount } from './load';
import type { SwitchRecord, SwitchUnderLoad } from './result';
import type { ServiceStack } from './service-stack';
import { median } from './stats';

/** Load before the first switch, between switches and after the last, so every switch happens under full load. */
const SETTLE_MS = { before: 500, between: 100, after: 300 };
/** How long nginx may take to serve the new color once the command has returned. */
const SERVE_TIMEOUT_MS = 5_000;
/** An upper bound on the load: it is stopped as soon as the switches are done. */
const MAX_LOAD_SECONDS = 600;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Watches nginx during one switch: GET /health on fresh connections, back to back, until one is
 * answered by `target`; resolves with the milliseconds since `startedAt`.
 */
function watchUntilServed(
  routerUrl: string,
  target: Color,
  startedAt: number,
  counts: { requests: number; failures: number },
): { served: Promise<number | null>; cancel: () => void } {
  let cancelled = false;
  const served = (async () => {
    while (!cancelled) {
      try {
        const answer = await probe(`${routerUrl}/health`);
        counts.requests += 1;
        if (answer.status !== 200) counts.failures += 1;
        if (answer.headers['x-color'] === target) return Math.round((performance.now() - startedAt) * 10) / 10;
      } catch {
        counts.requests += 1;
        counts.failures += 1;
      }
    }
    return null;
  })();
  return { served, cancel: () => (cancelled = true) };
}

/**
 * `switches` switches (toggles) of the real stack, each through the deploy library's real checks,
 * while `connections` keep-alive clients POST the 3-row /predict through nginx without pause.
 * Reports every failed request and, per switch, how long until nginx served the new color.
 */
export async function switchUnderLoad(
  load: LoadGenerator,
  stack: ServiceStack,
  options: { switches: number; connections: number; progress: (line: string) => void; checkAborted: () => void },
): Promise<SwitchUnderLoad> {
  const loading = load.run({
    url: `${stack.routerUrl}/predict`,
    method: 'POST',
    body: predictBody(3),
    connections: options.connections,
    durationSeconds: MAX_LOAD_SECONDS,
  });
  // A run that fails to start must not leave an unhandled rejection while the switches go on.
  loading.catch(() => undefined);
  const poller = { requests: 0, failures: 0 };
  const records: SwitchRecord[] = [];
  let live: Color = stack.live;
  try {
    await sleep(SETTLE_MS.before);
    for (let index = 1; index <= options.switches; index++) {
      options.checkAborted();
      const target = otherColor(live);
      const startedAt = performance.now();
      const watch = watchUntilServed(stack.routerUrl, target, startedAt, poller);
      const run = await stack.switchTraffic();
      const commandMs = Math.round((performance.now() - startedAt) * 10) / 10;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), SERVE_TIMEOUT_MS)));
      const servedAfterMs = run.ok ? await Promise.race([watch.served, timeout]) : null;
      clearTimeout(timer);
      watch.cancel();
      await watch.served;
      const result = run.result;
      const moved = result && result.kind !== 'noop' ? { from: result.from, to: result.to } : { from: live, to: null };
      records.push({
        index,
        ...moved,
        ok: run.ok && servedAfterMs !== null,
        commandMs,
        servedAfterMs,
        ...(run.error ? { error: run.error } : {}),
      });
      if (run.ok) live = target;
      options.progress(
        `  switch ${index}/${options.switches} ${moved.from} -> ${moved.to ?? '?'}: ${run.ok ? `nginx served ${target} after ${servedAfterMs ?? '?'} ms, command took ${commandMs} ms` : `FAILED: ${run.error ?? 'no answer'}`}`,
      );
      await sleep(SETTLE_MS.between);
    }
    await sleep(SETTLE_MS.after);
  } finally {
    load.stop();
  }
  const result = await loading;
  const served = records.map((record) => record.servedAfterMs).filter((value): value is number => value !== null);
  const commands = records.map((record) => record.commandMs);
  return {
    switches: options.switches,
    connections: options.connections,
    load: result,
    failedRequests: failedCount(result),
    pollerRequests: poller.requests,
    pollerFailures: poller.failures,
    records,
    servedAfterMs: { p50: median(served), max: served.length ? Math.max(...served) : null },
    commandMs: { p50: median(commands), max: commands.length ? Math.max(...commands) : null },
  };
}
