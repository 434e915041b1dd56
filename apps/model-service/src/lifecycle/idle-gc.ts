import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Gives memory back after a burst of load.
 *
 * Under load V8 grows its young generation to 32 MB and promotes request garbage (with the bodies and
 * tensors its ArrayBuffers hold) into the old one; all of it stays until the next full GC, and a
 * process that goes quiet never reaches one. Measured on the bench's load: 192 MB RSS after the
 * load, 129 MB after one full GC, the same 192 MB fifteen seconds later without one.
 *
 * So every few seconds, when the event loop was nearly idle over the last interval and RSS grew by
 * at least `thresholdBytes` since the last collection, it runs one full GC (a pause of some
 * milliseconds that, being idle, almost no request meets). It never runs under load, and never
 * twice for the same growth.
 */
export interface IdleGcOptions {
  /** RSS growth since the last collection that makes one worth it. */
  readonly thresholdBytes: number;
  /** How often to look. */
  readonly intervalMs: number;
  /** The share of the last interval the event loop may have been busy for it to count as idle. */
  readonly idleBelow: number;
  /** Told after each collection, e.g. to log it. */
  readonly onCollect?: (collection: IdleGcCollection) => void;
}

export interface IdleGcCollection {
  readonly rssBeforeBytes: number;
  readonly rssAfterBytes: number;
  readonly durationMs: number;
}

/** What the decision reads and does; the real ones by default, fakes in unit tests. */
export interface IdleGcProbes {
  readonly rss: () => number;
  /** The event loop's busy share (0..1) since the previous call. */
  readonly busyShare: () => number;
  readonly collect: () => void;
  readonly now: () => number;
}

export const IDLE_GC_INTERVAL_MS = 2_000;
export const IDLE_GC_IDLE_BELOW = 0.05;

/** One look: collects when idle and grown enough. Returns the collection it made, if any. */
export function createIdleGcCheck(options: IdleGcOptions, probes: IdleGcProbes): () => IdleGcCollection | undefined {
  let floor = probes.rss();
  probes.busyShare(); // starts the first interval
  return () => {
    const busy = probes.busyShare();
    const rssBeforeBytes = probes.rss();
    floor = Math.min(floor, rssBeforeBytes);
    if (busy >= options.idleBelow || rssBeforeBytes - floor < options.thresholdBytes) return undefined;
    const startedAt = probes.now();
    probes.collect();
    const rssAfterBytes = probes.rss();
    // What is left after a full GC is the new floor: only new growth triggers the next one.
    floor = rssAfterBytes;
    const collection = { rssBeforeBytes, rssAfterBytes, durationMs: probes.now() - startedAt };
    options.onCollect?.(collection);
    return collection;
  };
}

/** V8's full GC as a function, without starting node with --expose-gc (Jest's `--logHeapUsage` does the same). */
function fullGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  setFlagsFromString('--no-expose-gc');
  return gc;
}

function realProbes(): IdleGcProbes {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return {
    rss: () => process.memoryUsage.rss(),
    busyShare: () => {
      const now = performance.eventLoopUtilization();
      const share = performance.eventLoopUtilization(now, last).utilization;
      last = now;
      return share;
    },
    collect: fullGc(),
    now: () => performance.now(),
  };
}

/** Starts looking every `intervalMs`; the timer never keeps the process alive. Returns the stop function. */
export function startIdleGc(options: IdleGcOptions, probes: IdleGcProbes = realProbes()): () => void {
  const check = createIdleGcCheck(options, probes);
  const timer = setInterval(check, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
