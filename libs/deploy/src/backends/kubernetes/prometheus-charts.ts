import type { Color, TrafficPoint } from '@mlbg/contract';
import { errorRateByColor, latencyQuantileByColor, requestRateByColor } from '../../render/kubernetes/monitoring';
import type { ChartSample, ChartSource } from '../backend';
import type { MatrixSeries, PrometheusClient } from './prometheus';

/** rate() needs at least two scrapes in its window; four keep a point from jumping with one late scrape. */
const SCRAPES_PER_WINDOW = 4;

/**
 * The dashboard's charts on Kubernetes: per color, requests per second, the 5xx share and the p50
 * and p99 latency, from Prometheus range queries over the colors' own series (the same PromQL as
 * the Grafana dashboard and the alerts, over a window of four scrapes).
 */
export function prometheusCharts(prometheus: PrometheusClient, scrapeIntervalMs: number): ChartSource {
  const window = `${Math.round((SCRAPES_PER_WINDOW * scrapeIntervalMs) / 1000)}s`;
  return {
    stepMs: scrapeIntervalMs,
    async range(startMs, endMs) {
      const range = { startMs, endMs, stepMs: scrapeIntervalMs };
      const [rps, errors, p50, p99] = await Promise.all(
        [
          requestRateByColor(window),
          errorRateByColor(window),
          latencyQuantileByColor(0.5, window),
          latencyQuantileByColor(0.99, window),
        ].map((query) => prometheus.queryRange(query, range)),
      );
      const at = (series: MatrixSeries[] | undefined, color: Color, t: number): number | null => {
        const value = series?.find((one) => one.labels['color'] === color)?.points.find(([time]) => time === t)?.[1];
        return value === undefined || !Number.isFinite(value) ? null : value;
      };
      const times = [...new Set((rps ?? []).flatMap((series) => series.points.map(([t]) => t)))].sort((a, b) => a - b);
      const point = (color: Color, t: number): TrafficPoint | null => {
        const requests = at(rps, color, t);
        if (requests === null) return null;
        const ms = (seconds: number | null) => (seconds === null ? null : seconds * 1000);
        return {
          rps: requests,
          errorShare: requests > 0 ? at(errors, color, t) : null,
          p50Ms: ms(at(p50, color, t)),
          p99Ms: ms(at(p99, color, t)),
        };
      };
      return times.map((t): ChartSample => ({ t, blue: point('blue', t), green: point('green', t) }));
    },
  };
}
