import type { Color } from '@mlbg/contract';
import type { Clock } from '../../effects/deps';
import type { ServedTraffic } from '../../gates/analysis/served';
import { colorCounters, colorLatencyBuckets, colorScrapes } from '../../render/kubernetes/monitoring';
import type { MeteredWindow, PastWindow, TrafficMeter } from '../backend';
import type { PrometheusClient, VectorSample } from './prometheus';

/** How often the meter asks whether Prometheus has scraped past a moment. */
const SCRAPE_POLL_MS = 1_000;
/** A window's running counts are asked again after this long at most (or a scrape interval, if shorter). */
const MAX_COUNT_AGE_MS = 1_000;

/**
 * A color's counters at one moment, per pod: its requests by status, and its answered (not 5xx)
 * requests by latency bucket. Per pod, so a pod that restarted (its counters start again from 0)
 * or came new is counted from 0, as Prometheus' increase() treats a reset.
 */
interface Counters {
  /** pod -> status -> count */
  readonly byStatus: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** pod -> upper bound (s) -> cumulative count */
  readonly buckets: ReadonlyMap<string, ReadonlyMap<number, number>>;
}

const EMPTY: Counters = { byStatus: new Map(), buckets: new Map() };

const sum = (values: Iterable<number>) => [...values].reduce((total, value) => total + value, 0);

function byPod<K>(samples: readonly VectorSample[], key: (labels: Readonly<Record<string, string>>) => K): Map<string, Map<K, number>> {
  const pods = new Map<string, Map<K, number>>();
  for (const sample of samples) {
    const pod = sample.labels['pod'] ?? sample.labels['instance'] ?? '';
    const series = pods.get(pod) ?? new Map<K, number>();
    series.set(key(sample.labels), (series.get(key(sample.labels)) ?? 0) + sample.value);
    pods.set(pod, series);
  }
  return pods;
}

/** A color's counters per pod, as Prometheus has them now or at `atMs`. */
async function readCounters(prometheus: PrometheusClient, color: Color, atMs?: number): Promise<Counters> {
  const [counters, buckets] = await Promise.all([
    prometheus.query(colorCounters(color), atMs),
    prometheus.query(colorLatencyBuckets(color), atMs),
  ]);
  return {
    byStatus: byPod(counters, (labels) => labels['status'] ?? ''),
    buckets: byPod(buckets, (labels) => (labels['le'] === '+Inf' ? Infinity : Number(labels['le']))),
  };
}

/** What `later` counted since `earlier`, per pod; a pod whose total went down restarted, so all it has now is new. Pure. */
function since<K>(
  earlier: ReadonlyMap<string, ReadonlyMap<K, number>>,
  later: ReadonlyMap<string, ReadonlyMap<K, number>>,
): Map<K, number> {
  const total = new Map<K, number>();
  for (const [pod, now] of later) {
    const before = earlier.get(pod);
    const reset = !before || sum(now.values()) < sum(before.values());
    for (const [key, value] of now) total.set(key, (total.get(key) ?? 0) + Math.max(0, value - (reset ? 0 : (before.get(key) ?? 0))));
  }
  return total;
}

/** A window's counts as the judge takes them. Pure. */
export function servedBetween(earlier: Counters, later: Counters): ServedTraffic {
  const statuses = since(earlier.byStatus, later.byStatus);
  const buckets = [...since(earlier.buckets, later.buckets)].sort(([a], [b]) => a - b);
  return {
    kind: 'histogram',
    requests: sum(statuses.values()),
    errors: sum([...statuses].filter(([status]) => Number(status) >= 500).map(([, count]) => count)),
    latency: { boundsMs: buckets.map(([le]) => le * 1000), cumulative: buckets.map(([, count]) => count) },
  };
}

/**
 * The Kubernetes meter: each color's own counters in Prometheus (the series the rendered alerts
 * use: `http_requests_total` and `http_request_duration_seconds`, the same selector of served
 * routes), read at a window's two ends. Each end waits until Prometheus has scraped every pod of
 * both colors after that moment (Prometheus' own clock), so the window holds what the pods counted
 * between two scrapes: exact counts, not rate() extrapolations, which the judge's exact tests need.
 */
export function prometheusMeter(
  prometheus: PrometheusClient,
  clock: Clock,
  scrapeIntervalMs: number,
  colors: { readonly stable: Color; readonly canary: Color },
): TrafficMeter {
  const both = [colors.stable, colors.canary];
  let marks: Record<Color, Counters> | undefined;
  let lastCount: { at: number; counts: Record<Color, number> } | undefined;
  const notes: string[] = [];

  const read = (color: Color) => readCounters(prometheus, color);
  const readBoth = async () => {
    const [a, b] = await Promise.all(both.map(read));
    return { [colors.stable]: a, [colors.canary]: b } as Record<Color, Counters>;
  };

  /** Waits until every pod of both colors seen lately was scraped after Prometheus' `now`; a note when that does not come. */
  const scrapedAfterNow = async (): Promise<void> => {
    const [now] = await prometheus.query('time()');
    const after = (now?.value ?? clock.now() / 1000) * 1000;
    const recent = after - 3 * scrapeIntervalMs;
    const until = clock.now() + 2 * scrapeIntervalMs + 5_000;
    const podOf = (series: VectorSample) => series.labels['pod'] ?? series.labels['instance'] ?? '';
    for (;;) {
      // A failed scrape (the pod busy, or gone) moves `up`'s time but not the counters': wait for one that worked.
      const [tried, outcome] = await Promise.all([prometheus.query(colorScrapes(both)), prometheus.query(colorScrapes(both, true))]);
      const worked = new Set(outcome.filter((series) => series.value === 1).map(podOf));
      const behind = tried.filter((series) => series.value * 1000 >= recent && (series.value * 1000 < after || !worked.has(podOf(series))));
      if (behind.length === 0) return;
      if (clock.now() >= until) {
        notes.push(
          `Prometheus had not scraped ${behind.map((series) => series.labels['pod'] ?? series.labels['instance']).join(', ')} again after ${Math.round((2 * scrapeIntervalMs + 5_000) / 1000)} s: what they served since their last scrape is left out.`,
        );
        return;
      }
      await clock.sleep(SCRAPE_POLL_MS);
    }
  };

  return {
    settleMs: scrapeIntervalMs,
    async begin() {
      notes.length = 0;
      lastCount = undefined;
      marks = undefined;
      try {
        await scrapedAfterNow();
        marks = await readBoth();
      } catch (error) {
        // No mark, no window: the interval has no data, so it is inconclusive (never a pass).
        notes.push(`Prometheus did not answer when the window began: ${(error as Error).message}`);
      }
    },
    async counted() {
      // The counters move only when Prometheus scrapes: asking more often than that only loads it.
      if (lastCount && clock.now() - lastCount.at < Math.min(scrapeIntervalMs, MAX_COUNT_AGE_MS)) return lastCount.counts;
      const count = async (color: Color) => {
        if (!marks) return 0;
        const byStatus = byPod(await prometheus.query(colorCounters(color)), (labels) => labels['status'] ?? '');
        return sum(since(marks[color].byStatus, byStatus).values());
      };
      const [stable, canary] = await Promise.all([count(colors.stable), count(colors.canary)]).catch(() => [0, 0] as const);
      const counts = { [colors.stable]: stable, [colors.canary]: canary } as Record<Color, number>;
      lastCount = { at: clock.now(), counts };
      return counts;
    },
    async end() {
      let now: Record<Color, Counters> | undefined;
      try {
        await scrapedAfterNow();
        now = await readBoth();
      } catch (error) {
        notes.push(`Prometheus did not answer when the window ended: ${(error as Error).message}`);
      }
      // Without both marks the window is empty: too little data, an inconclusive interval.
      if (!now || !marks) now = marks = { [colors.stable]: EMPTY, [colors.canary]: EMPTY } as Record<Color, Counters>;
      const start = marks;
      return {
        served: {
          [colors.stable]: servedBetween(start[colors.stable], now[colors.stable]),
          [colors.canary]: servedBetween(start[colors.canary], now[colors.canary]),
        } as Record<Color, ServedTraffic>,
        notes: [...notes],
      };
    },
  };
}

/**
 * What each color served in a window that already happened: its counters in Prometheus at the
 * window's two ends (instant queries at those moments). A pod that restarted in between is counted
 * from 0, as increase() does; what a pod served after its last scrape before `until` is not in it.
 */
export async function prometheusServedBetween(prometheus: PrometheusClient, window: PastWindow): Promise<MeteredWindow> {
  const colorServed = async (color: Color) =>
    servedBetween(await readCounters(prometheus, color, window.sinceMs), await readCounters(prometheus, color, window.untilMs));
  const [blue, green] = await Promise.all([colorServed('blue'), colorServed('green')]);
  return { served: { blue, green }, notes: [] };
}
