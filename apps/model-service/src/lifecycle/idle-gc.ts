import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Gives memory back after a burst of load.
 *
 * Under load V8 promotes request garbage (with the bodies, tensors and response buffers its
 * ArrayBuffers hold) into the old generation, where it stays until the next full GC, and a process
 * that goes quiet never reaches one. Measured after 10,000-row batches at 32 connections: RSS
 * 178-202 MB, 127-169 MB after this GC, unchanged without it. It can not give back what malloc
 * keeps fragmented, and V8 seldom shrinks its grown young generation (docs/performance.md).
 *
 * So every few seconds it looks: once the event loop has been nearly idle for a few intervals in a
 * row and RSS grew by at least `thresholdBytes` since the last collection, it runs one full GC (a
 * pause of some milliseconds that, being idle, almost no request meets). It never runs under load,
 * and never twice for the same growth.
 *
 * The full GC is V8's "last resort" flavour (what a low-memory notification runs), not a plain one:
 * since Node 26 (V8 14) a plain full GC keeps the pages it emptied in a pool for reuse, resident, and
 * only V8's memory reducer gives them back, some seconds later and only if the process stays quiet.
 * Measured on Node 26.12.1: 100 MB pooled and RSS unchanged (231 MB) after a plain one, 61 MB
 * after the last-resort one; the live color 237 MB instead of about 150 MB 20 s after 10,000-row load.
 *
 * Then it shrinks the young generation. Under load V8 grows it to 32 MB (two halves of 16 MB, all
 * resident) and shrinks it only in a collection that saw a low (but not zero) allocation rate, which
 * the full GC often does not, as it still counts the load: seen on Node 20, new space stayed at 32 MB
 * after the full GC in about one case of five, and shrank to 1 MB in a minor GC at one of the next idle
 * intervals. So while it is still large, each idle interval runs one minor GC (well under a millisecond
 * on an empty young generation), a few times at most.
 */
export interface IdleGcOptions {
  /** RSS growth since the last collection that makes one worth it. */
  readonly thresholdBytes: number;
  /** How often to look. */
  readonly intervalMs: number;
  /** The share of an interval the event loop may have been busy for it to count as idle. */
  readonly idleBelow: number;
  /** Idle intervals in a row before collecting. */
  readonly idleIntervals: number;
  /** Told after each collection, e.g. to log it. */
  readonly onCollect?: (collection: IdleGcCollection) => void;
  /**
   * RSS the growth is counted from before the first collection; by default the RSS at start. 0 makes
   * the first idle spell collect what start-up left (module loading, compiling, the warm-up).
   */
  readonly initialFloorBytes?: number;
}

/**
 * One collection. The heap figures are exact at once; RSS follows over the next seconds, as V8
 * unmaps the pages it emptied and malloc gives back what the freed buffers held.
 */
export interface IdleGcCollection {
  readonly rssBeforeBytes: number;
  readonly heapUsedBeforeBytes: number;
  readonly heapUsedAfterBytes: number;
  readonly durationMs: number;
}

/** What the decision reads and does; the real ones by default, fakes in unit tests. */
export interface IdleGcProbes {
  readonly rss: () => number;
  readonly heapUsed: () => number;
  /** The young generation's size (V8's new space, both halves). */
  readonly youngBytes: () => number;
  /** The event loop's busy share (0..1) since the previous call. */
  readonly busyShare: () => number;
  /** A full GC that also gives back the pages it emptied. */
  readonly collect: () => void;
  /** A minor GC (of the young generation only). */
  readonly collectYoung: () => void;
  readonly now: () => number;
}

export const IDLE_GC_INTERVAL_MS = 2_000;
export const IDLE_GC_IDLE_BELOW = 0.05;
/**
 * 6 s of quiet before collecting: a lull between bursts rarely lasts that long, so the pause seldom
 * meets a returning request; and V8 sometimes shrinks its grown young generation in a GC after a
 * quiet spell (seen: 202 -> 127 MB), never in one right after the load.
 */
export const IDLE_GC_IDLE_INTERVALS = 3;

/** A young generation at most this big is left as it is (V8 starts it at 1 MB a half). */
export const SMALL_YOUNG_GENERATION_BYTES = 4 * 1024 * 1024;
/** Idle intervals after a full GC that may each run one minor GC to shrink the young generation. */
export const YOUNG_SHRINK_TRIES = 5;

/** One look: collects when idle and grown enough. Returns the collection it made, if any. */
export function createIdleGcCheck(options: IdleGcOptions, probes: IdleGcProbes): () => IdleGcCollection | undefined {
  let floor = options.initialFloorBytes ?? probes.rss();
  let idleInARow = 0;
  let shrinkTriesLeft = 0;
  probes.busyShare(); // starts the first interval
  return () => {
    const idle = probes.busyShare() < options.idleBelow;
    idleInARow = idle ? idleInARow + 1 : 0;
    // Under load again the young generation grows back anyway: stop trying until the next full GC.
    if (!idle || probes.youngBytes() <= SMALL_YOUNG_GENERATION_BYTES) shrinkTriesLeft = 0;
    if (shrinkTriesLeft > 0) {
      probes.collectYoung();
      shrinkTriesLeft--;
    }
    const rssBeforeBytes = probes.rss();
    floor = Math.min(floor, rssBeforeBytes);
    if (idleInARow < options.idleIntervals || rssBeforeBytes - floor < options.thresholdBytes) return undefined;
    const heapUsedBeforeBytes = probes.heapUsed();
    const startedAt = probes.now();
    probes.collect();
    const durationMs = probes.now() - startedAt;
    probes.busyShare(); // the pause itself is not load: the next interval starts after it
    shrinkTriesLeft = YOUNG_SHRINK_TRIES;
    // What is left after a full GC is the new floor (lowered further as RSS follows): only new
    // growth triggers the next one.
    floor = probes.rss();
    const collection = { rssBeforeBytes, heapUsedBeforeBytes, heapUsedAfterBytes: probes.heapUsed(), durationMs };
    options.onCollect?.(collection);
    return collection;
  };
}

/** The options of V8's `gc()` (its gc extension): a minor or full GC; a full one may also give back every pooled page. */
interface GcOptions {
  readonly type: 'minor' | 'major';
  readonly execution?: 'sync' | 'async';
  readonly flavor?: 'regular' | 'last-resort';
}

/** V8's `gc()` as a function, without starting node with --expose-gc (Jest's `--logHeapUsage` does the same). */
function exposedGc(): (options?: GcOptions) => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  setFlagsFromString('--no-expose-gc');
  return gc;
}

/** The probes of this process (exported for the spec that checks a collection gives memory back). */
export function realIdleGcProbes(): IdleGcProbes {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  const gc = exposedGc();
  return {
    rss: () => process.memoryUsage.rss(),
    heapUsed: () => getHeapStatistics().used_heap_size,
    youngBytes: () => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0,
    busyShare: () => {
      const now = performance.eventLoopUtilization();
      const share = performance.eventLoopUtilization(now, last).utilization;
      last = now;
      return share;
    },
    collect: () => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' }),
    collectYoung: () => gc({ type: 'minor' }),
    now: () => performance.now(),
  };
}

/** Starts looking every `intervalMs`; the timer never keeps the process alive. Returns the stop function. */
export function startIdleGc(options: IdleGcOptions, probes: IdleGcProbes = realIdleGcProbes()): () => void {
  const check = createIdleGcCheck(options, probes);
  const timer = setInterval(check, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
