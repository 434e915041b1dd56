import { Color } from '@mlbg/contract';
import { APP_NAME, METRICS_SERVICE } from './kubernetes-names';

/**
 * The PromQL of the alerts, the Argo Rollouts analysis and the dashboard, over the service's own
 * metrics (`http_requests_total`, `http_request_duration_seconds`, `model_info`, see
 * apps/model-service/src/metrics). Prometheus scrapes them through the ServiceMonitor, whose job
 * label is the metrics Service's name and which adds each pod's `color` (or, under Argo Rollouts,
 * `rollouts-pod-template-hash`) label to its series.
 */

/** Host names of Services inside a cluster: `<service>.<namespace>.svc[.cluster.local]`. */
const IN_CLUSTER_HOST = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.cluster\.local)?$/;

/**
 * The Service a Prometheus URL names inside the cluster (`http://prometheus-operated.monitoring.svc:9090`
 * -> monitoring, prometheus-operated, 9090), or undefined for any other URL. The deploy CLI asks such
 * a URL through the API server's service proxy, which the prometheus-access Role allows.
 */
export function inClusterService(url: string): { namespace: string; service: string; port: string } | undefined {
  const parsed = new URL(url);
  const match = IN_CLUSTER_HOST.exec(parsed.hostname);
  if (!match) return undefined;
  return { namespace: match[2] as string, service: match[1] as string, port: parsed.port || (parsed.protocol === 'https:' ? '443' : '80') };
}

/** How often the ServiceMonitor has Prometheus scrape each pod. */
export const DEFAULT_SCRAPE_INTERVAL_MS = 15_000;

/** Every series of this service, and only those. */
export const JOB_SELECTOR = `job="${METRICS_SERVICE}"`;
/** The requests clients make: not the probes' /health, nor Prometheus' own /metrics. */
const SERVED = `route!~"/health.*|/metrics"`;

/** Limits of the alerts and of the analysis before a promotion. */
export const LIMITS = {
  /** Share of 5xx answers. */
  errorRate: 0.01,
  /** p99 of an answer, in seconds (the service answers a 3-row /predict in about 1 ms). */
  p99Seconds: 0.25,
  /** Share of non-5xx answers the preview color must reach before it is promoted. */
  successRate: 0.99,
} as const;

/** How far back the alerts look, and how long a condition must last before they fire. */
const ALERT_WINDOW = '5m';

/** Share of 5xx answers per color; 0 (not "no data") when there were none. */
export function errorRateByColor(window = ALERT_WINDOW): string {
  const all = `sum by (color) (rate(http_requests_total{${JOB_SELECTOR},${SERVED}}[${window}]))`;
  const errors = `sum by (color) (rate(http_requests_total{${JOB_SELECTOR},${SERVED},status=~"5.."}[${window}]))`;
  return `(${errors} or ${all} * 0) / ${all}`;
}

/** p99 latency per color, in seconds. */
export function p99ByColor(window = ALERT_WINDOW): string {
  return latencyQuantileByColor(0.99, window);
}

/** Requests per second per color (the dashboard's and the Grafana panel's). */
export function requestRateByColor(window = ALERT_WINDOW): string {
  return `sum by (color) (rate(http_requests_total{${JOB_SELECTOR},${SERVED}}[${window}]))`;
}

/** A latency quantile per color, in seconds. */
export function latencyQuantileByColor(quantile: number, window = ALERT_WINDOW): string {
  return `histogram_quantile(${quantile}, sum by (color, le) (rate(http_request_duration_seconds_bucket{${JOB_SELECTOR},${SERVED}}[${window}])))`;
}

/**
 * The canary's analysis on Kubernetes reads counters, not rates: the same series and served routes
 * as the alerts, per pod, at a window's two ends (see backends/kubernetes/prometheus-meter.ts).
 */
export function colorCounters(color: Color): string {
  return `sum by (pod, status) (http_requests_total{${JOB_SELECTOR},${SERVED},color="${color}"})`;
}

/** The answered (not 5xx) requests of a color per pod and latency bucket: what the latency checks judge. */
export function colorLatencyBuckets(color: Color): string {
  return `sum by (pod, le) (http_request_duration_seconds_bucket{${JOB_SELECTOR},${SERVED},color="${color}",status!~"5.."})`;
}

/**
 * When Prometheus last scraped each pod of these colors (its own clock, in seconds), or with
 * `outcome`, whether that scrape worked (`up`: 1 or 0). Two plain selectors: timestamp() of an
 * expression such as `up == 1` is the evaluation time, not the scrape's.
 */
export function colorScrapes(colors: readonly Color[], outcome = false): string {
  const up = `up{${JOB_SELECTOR},color=~"${colors.join('|')}"}`;
  return outcome ? up : `timestamp(${up})`;
}

/** 1 (labelled with the color) when no pod of `color` is up. */
export function colorDown(color: Color): string {
  return `absent(up{${JOB_SELECTOR},color="${color}"} == 1)`;
}

/** How many model versions each color's pods serve: more than one is a mismatch (a rollout stuck half-way, a pod on an old model). */
export function versionsPerColor(): string {
  return `count by (color) (count by (color, version) (model_info{${JOB_SELECTOR}}))`;
}

/** One alerting rule of the PrometheusRule (prometheus-operator's `Rule`). */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** The alerts: error rate, latency, a color down, a version mismatch. */
export function alertRules(): AlertRule[] {
  return [
    {
      alert: 'MLModelHighErrorRate',
      expr: `${errorRateByColor()} > ${LIMITS.errorRate}`,
      for: '5m',
      labels: { severity: 'critical' },
      annotations: {
        summary: `{{ $labels.color }} answers more than ${LIMITS.errorRate * 100}% of requests with 5xx`,
        description:
          'If {{ $labels.color }} is live, roll back: `npx nx run deploy:rollback --backend=kubernetes`. Its logs: `kubectl logs -l app=' +
          APP_NAME +
          ',color={{ $labels.color }}`.',
      },
    },
    {
      alert: 'MLModelHighLatency',
      expr: `${p99ByColor()} > ${LIMITS.p99Seconds}`,
      for: '10m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `p99 latency of {{ $labels.color }} is above ${LIMITS.p99Seconds * 1000} ms`,
        description:
          'Check its CPU throttling (`kubectl top pods -l app=' +
          APP_NAME +
          '`) and batch sizes; scale the Deployment or raise its CPU limit in deploy/deployment.json.',
      },
    },
    ...Color.options.map((color) => ({
      alert: 'MLModelColorDown',
      expr: colorDown(color),
      for: '2m',
      // One rule per color, told apart by this label (promtool: duplicate rules otherwise).
      labels: { severity: 'critical', color },
      annotations: {
        summary: `No ${color} pod is up`,
        description: `Prometheus reaches no ${color} pod. If ${color} is live this is an outage: \`npx nx run deploy:status --backend=kubernetes\`, then \`kubectl describe deployment ${APP_NAME}-${color}\`.`,
      },
    })),
    {
      alert: 'MLModelVersionMismatch',
      expr: `${versionsPerColor()} > 1`,
      for: '10m',
      labels: { severity: 'warning' },
      annotations: {
        summary: '{{ $labels.color }} pods serve {{ $value }} different model versions',
        description:
          'A rollout of {{ $labels.color }} stopped half-way: `kubectl rollout status deployment/' +
          APP_NAME +
          '-{{ $labels.color }}`, then release again.',
      },
    },
  ];
}

/** The Argo Rollouts analysis argument that names the new (preview) pods. */
export const PREVIEW_HASH_ARG = 'preview-hash';
const PREVIEW_PODS = `${JOB_SELECTOR},rollouts_pod_template_hash="{{args.${PREVIEW_HASH_ARG}}}"`;
const ANALYSIS_WINDOW = '2m';

/** One Prometheus metric of the AnalysisTemplate: the query, and the condition its result must meet. */
export interface AnalysisQuery {
  readonly name: string;
  readonly query: string;
  /** Argo's expr: too little data (an empty result, NaN) fails, never passes. */
  readonly successCondition: string;
}

/** What the preview pods must show before a promotion. */
export function analysisQueries(): AnalysisQuery[] {
  return [
    {
      name: 'preview-success-rate',
      query: `sum(rate(http_requests_total{${PREVIEW_PODS},${SERVED},status!~"5.."}[${ANALYSIS_WINDOW}])) / sum(rate(http_requests_total{${PREVIEW_PODS},${SERVED}}[${ANALYSIS_WINDOW}]))`,
      successCondition: `len(result) > 0 && result[0] >= ${LIMITS.successRate}`,
    },
    {
      name: 'preview-p99-latency',
      query: `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${PREVIEW_PODS},${SERVED}}[${ANALYSIS_WINDOW}])))`,
      successCondition: `len(result) > 0 && result[0] <= ${LIMITS.p99Seconds}`,
    },
  ];
}

/** The Grafana dashboard of the service's metrics, per color. Pure; stable key order. */
export function grafanaDashboard(): object {
  const panel = (id: number, title: string, unit: string, expr: string, legend: string, gridPos: { x: number; y: number }) => ({
    id,
    title,
    type: 'timeseries',
    datasource: { type: 'prometheus', uid: '${datasource}' },
    fieldConfig: { defaults: { unit }, overrides: [] },
    gridPos: { h: 8, w: 12, ...gridPos },
    targets: [{ refId: 'A', expr, legendFormat: legend }],
  });
  return {
    title: 'ML model service (blue-green)',
    uid: 'ml-model-service',
    tags: ['ml', 'blue-green'],
    timezone: 'browser',
    schemaVersion: 39,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    templating: { list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus' }] },
    panels: [
      panel(1, 'Requests per second by color', 'reqps', requestRateByColor('1m'), '{{color}}', { x: 0, y: 0 }),
      panel(2, 'Error rate (5xx) by color', 'percentunit', errorRateByColor('1m'), '{{color}}', { x: 12, y: 0 }),
      panel(3, 'p99 latency by color', 's', p99ByColor('1m'), '{{color}}', { x: 0, y: 8 }),
      panel(
        4,
        'Inference time p99 by color',
        's',
        `histogram_quantile(0.99, sum by (color, le) (rate(model_inference_duration_seconds_bucket{${JOB_SELECTOR}}[1m])))`,
        '{{color}}',
        { x: 12, y: 8 },
      ),
      panel(
        5,
        'Model version per pod',
        'none',
        `max by (color, version, pod) (model_info{${JOB_SELECTOR}})`,
        '{{color}} {{version}} {{pod}}',
        { x: 0, y: 16 },
      ),
      panel(6, 'Memory (RSS) per pod', 'bytes', `process_resident_memory_bytes{${JOB_SELECTOR}}`, '{{color}} {{pod}}', { x: 12, y: 16 }),
    ],
  };
}
