import { createIdleGcCheck, realIdleGcProbes, startIdleGc, YOUNG_SHRINK_TRIES, type IdleGcProbes } from './idle-gc';

const MB = 1024 * 1024;

/**
 * A process whose RSS, young generation and event-loop load the test sets; a collection gives back
 * what `freed` says, and the young generation shrinks at the minor GC `youngShrinksAt` (0: never).
 */
function fakeProcess(rssMb: number) {
  const state = {
    rss: rssMb * MB,
    heap: 40 * MB,
    young: 2 * MB,
    youngShrinksAt: 0,
    busy: 0,
    /** The busy share a collection's pause adds to the interval it happens in. */
    pauseShare: 0,
    pause: 0,
    freed: 0,
    collections: 0,
    minorCollections: 0,
  };
  const probes: IdleGcProbes = {
    rss: () => state.rss,
    heapUsed: () => state.heap,
    youngBytes: () => state.young,
    busyShare: () => {
      const share = state.busy + state.pause;
      state.pause = 0;
      return share;
    },
    collect: () => {
      state.pause = state.pauseShare;
      state.collections++;
      state.rss -= state.freed * MB;
      state.heap = 20 * MB;
    },
    collectYoung: () => {
      state.minorCollections++;
      if (state.minorCollections === state.youngShrinksAt) state.young = 2 * MB;
    },
    now: () => state.collections * 10,
  };
  return { state, probes };
}

const options = { thresholdBytes: 16 * MB, intervalMs: 2_000, idleBelow: 0.05, idleIntervals: 1 };

describe('idle GC', () => {
  it('collects once the load is over, not while it lasts', () => {
    const { state, probes } = fakeProcess(120);
    const check = createIdleGcCheck(options, probes);
    state.rss = 190 * MB;
    state.busy = 0.9;
    expect(check()).toBeUndefined();
    expect(state.collections).toBe(0);

    state.busy = 0.01;
    state.freed = 60;
    expect(check()).toEqual({ rssBeforeBytes: 190 * MB, heapUsedBeforeBytes: 40 * MB, heapUsedAfterBytes: 20 * MB, durationMs: 10 });
    expect(state.collections).toBe(1);
  });

  it('waits for the loop to be idle for the given intervals in a row', () => {
    const { state, probes } = fakeProcess(120);
    const check = createIdleGcCheck({ ...options, idleIntervals: 3 }, probes);
    state.rss = 190 * MB;
    check();
    check();
    state.busy = 0.5; // a short burst starts the count again
    check();
    state.busy = 0;
    check();
    check();
    expect(state.collections).toBe(0);
    check();
    expect(state.collections).toBe(1);
  });

  it('does not collect for growth under the threshold', () => {
    const { state, probes } = fakeProcess(120);
    const check = createIdleGcCheck(options, probes);
    state.rss = 135 * MB;
    expect(check()).toBeUndefined();
    expect(state.collections).toBe(0);
  });

  it('never collects twice for the same growth, even when a collection gave little back', () => {
    const { state, probes } = fakeProcess(120);
    const check = createIdleGcCheck(options, probes);
    state.rss = 180 * MB;
    state.freed = 2;
    check();
    check();
    check();
    expect(state.collections).toBe(1);

    state.rss += 20 * MB; // a new burst
    check();
    expect(state.collections).toBe(2);
  });

  it('measures growth from the lowest RSS seen, so memory given back by V8 itself is not counted as growth', () => {
    const { state, probes } = fakeProcess(150);
    const check = createIdleGcCheck(options, probes);
    state.rss = 125 * MB;
    check();
    state.rss = 145 * MB; // 20 MB over the lowest point, though under the start
    check();
    expect(state.collections).toBe(1);
  });

  it('after a full GC, runs one minor GC per idle interval while the young generation stays large, a few times at most', () => {
    const { state, probes } = fakeProcess(120);
    const check = createIdleGcCheck(options, probes);
    state.rss = 190 * MB;
    state.young = 32 * MB;
    state.youngShrinksAt = 2;
    check(); // the full GC, which left the young generation at 32 MB
    expect([state.collections, state.minorCollections]).toEqual([1, 0]);
    check();
    check(); // V8 shrinks it here
    check();
    check();
    expect(state.minorCollections).toBe(2);

    state.rss += 20 * MB; // a new burst, after which V8 never shrinks it
    state.young = 32 * MB;
    state.youngShrinksAt = 0;
    for (let i = 0; i < 10; i++) check();
    expect([state.collections, state.minorCollections]).toEqual([2, 2 + YOUNG_SHRINK_TRIES]);
  });

  it('does not count the pause of its own full GC as load', () => {
    const { state, probes } = fakeProcess(120);
    const check = createIdleGcCheck(options, probes);
    state.rss = 190 * MB;
    state.young = 32 * MB;
    state.pauseShare = 0.2; // a 400 ms pause in a 2 s interval
    check();
    check();
    expect([state.collections, state.minorCollections]).toEqual([1, 1]);
  });

  it('stops shrinking the young generation when load comes back', () => {
    const { state, probes } = fakeProcess(120);
    const check = createIdleGcCheck(options, probes);
    state.rss = 190 * MB;
    state.young = 32 * MB;
    check();
    state.busy = 0.5;
    check();
    state.busy = 0;
    check();
    expect(state.minorCollections).toBe(0);
  });

  it('reports each collection and stops looking when stopped', () => {
    // Jest's clock: every interval that falls due runs, so "nothing after stop" does not depend on a sleep being long enough.
    jest.useFakeTimers();
    try {
      const { state, probes } = fakeProcess(100);
      const seen: number[] = [];
      const stop = startIdleGc({ ...options, intervalMs: 5, onCollect: (c) => seen.push(c.rssBeforeBytes / MB) }, probes);
      state.rss = 200 * MB;
      state.freed = 90;
      jest.advanceTimersByTime(50);
      stop();
      const collections = state.collections;
      state.rss = 300 * MB;
      jest.advanceTimersByTime(30);
      expect(seen).toEqual([200]);
      expect(state.collections).toBe(collections);
    } finally {
      jest.useRealTimers();
    }
  });

  it('runs a real full GC by default, which frees an unreachable object', async () => {
    let collected = false;
    const registry = new FinalizationRegistry(() => (collected = true));
    (() => registry.register({ big: new Array(1000).fill(0) }, 'garbage'))();
    const stop = startIdleGc({ ...options, thresholdBytes: 0, intervalMs: 5 });
    for (let i = 0; i < 40 && !collected; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    stop();
    expect(collected).toBe(true);
  });

  it('gives back the pages a burst of short-lived objects left (V8 14 keeps them pooled after a plain full GC)', () => {
    const probes = realIdleGcProbes();
    probes.collect();
    const before = probes.rss();
    // Many small objects, a few thousand arrays alive at a time: V8 grows and then empties regular pages.
    let alive: { i: number }[][] = [];
    for (let batch = 0; batch < 150; batch++) {
      alive.push(Array.from({ length: 20_000 }, (_, i) => ({ i })));
      if (alive.length > 20) alive.shift();
    }
    alive = [];
    const grown = probes.rss() - before;
    expect(grown).toBeGreaterThan(50 * MB);
    probes.collect();
    // A plain full GC left RSS where it was (the emptied pages stay pooled); this one gives most back.
    expect(probes.rss() - before).toBeLessThan(grown / 2);
  });
});
