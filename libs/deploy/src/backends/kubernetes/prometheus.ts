import { z } from 'zod';
import type { HttpAnswer, HttpCall, HttpClient } from '../../effects/deps';
import { DeployError } from '../../errors';
import { inClusterService } from '../../render/kubernetes/monitoring';
import type { KubeApi, ServiceTarget } from './kube-api';

/**
 * A small client of Prometheus' HTTP API (`/api/v1/query` and `/api/v1/query_range`): the two
 * calls the canary's analysis and the dashboard's charts make, parsed with zod. A client library
 * would bring its own HTTP stack; these two GETs go through the same transports as everything else
 * (a plain HTTP request, or the API server's service proxy).
 */

/** One series of an instant query. */
export interface VectorSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One series of a range query: [ms since the epoch, value] points. */
export interface MatrixSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly points: readonly (readonly [number, number])[];
}

export interface PrometheusClient {
  /** For messages: where Prometheus is asked, and how. */
  readonly where: string;
  /** An instant query at `atMs` (default: now, as Prometheus sees it). */
  query(promql: string, atMs?: number): Promise<VectorSample[]>;
  queryRange(promql: string, range: { readonly startMs: number; readonly endMs: number; readonly stepMs: number }): Promise<MatrixSeries[]>;
}

/** A GET of a path (with its query string) on Prometheus. */
export type PrometheusTransport = (path: string) => Promise<HttpAnswer>;

const Sample = z.tuple([z.number(), z.string()]);
const Answer = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: Sample })) }),
      z.object({
        resultType: z.literal('matrix'),
        result: z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(Sample) })),
      }),
      z.object({ resultType: z.literal('scalar'), result: Sample }),
    ]),
  }),
  z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string() }),
]);

const QUERY_TIMEOUT_MS = 10_000;

export function prometheusClient(transport: PrometheusTransport, where: string): PrometheusClient {
  async function ask(path: string, promql: string) {
    let answer: HttpAnswer;
    try {
      answer = await transport(path);
    } catch (error) {
      throw unreachable(where, (error as Error).message);
    }
    let parsed;
    try {
      parsed = Answer.safeParse(JSON.parse(answer.body));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) throw unreachable(where, `HTTP ${answer.status}: ${answer.body.slice(0, 200)}`);
    if (parsed.data.status === 'error')
      throw new DeployError('PROMETHEUS_FAILED', `${where} refused \`${promql}\`: ${parsed.data.error}.`, {
        hint: 'This is a query the deploy tool wrote: please report it with this output.',
      });
    return parsed.data.data;
  }
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  return {
    where,
    async query(promql, atMs) {
      const data = await ask(
        `/api/v1/query?query=${encodeURIComponent(promql)}${atMs === undefined ? '' : `&time=${seconds(atMs)}`}`,
        promql,
      );
      if (data.resultType === 'scalar') return [{ labels: {}, value: Number(data.result[1]) }];
      if (data.resultType !== 'vector') return [];
      return data.result.map((series) => ({ labels: series.metric, value: Number(series.value[1]) }));
    },
    async queryRange(promql, range) {
      const data = await ask(
        `/api/v1/query_range?query=${encodeURIComponent(promql)}&start=${seconds(range.startMs)}&end=${seconds(range.endMs)}&step=${seconds(range.stepMs)}`,
        promql,
      );
      if (data.resultType !== 'matrix') return [];
      return data.result.map((series) => ({
        labels: series.metric,
        points: series.values.map(([t, value]) => [t * 1000, Number(value)] as const),
      }));
    },
  };
}

function unreachable(where: string, why: string): DeployError {
  return new DeployError('PROMETHEUS_FAILED', `${where} did not answer a query: ${why}.`);
}

/**
 * How the CLI reaches Prometheus at `url` (the spec's `kubernetes.prometheusUrl`, or
 * BLUEGREEN_PROMETHEUS_URL): a Service's in-cluster name from outside the cluster through the API
 * server's service proxy (as the colors are reached), anything else with a plain HTTP request.
 */
export function prometheusTransport(
  url: string,
  options: { readonly api: KubeApi; readonly http: HttpClient; readonly inCluster: boolean },
): { transport: PrometheusTransport; where: string } {
  const parsed = new URL(url);
  const base = parsed.pathname.replace(/\/+$/, '');
  const call = (path: string): HttpCall => ({ method: 'GET', path: `${base}${path}`, timeoutMs: QUERY_TIMEOUT_MS });
  const target: ServiceTarget | undefined = inClusterService(url);
  if (target && !options.inCluster) {
    return {
      transport: (path) => options.api.serviceProxy(target, call(path)),
      where: `Prometheus at ${url} (through the API server's service proxy)`,
    };
  }
  if (parsed.protocol !== 'http:') {
    // Refused when asked, not now: the commands that never ask Prometheus (switch, release) work whatever the URL.
    const refusal = new DeployError('PROMETHEUS_FAILED', `${url}: only http:// URLs are asked directly.`, {
      hint: 'Give kubernetes.prometheusUrl (or BLUEGREEN_PROMETHEUS_URL) as http://, e.g. through `kubectl port-forward -n monitoring svc/prometheus-operated 9090` and BLUEGREEN_PROMETHEUS_URL=http://127.0.0.1:9090.',
    });
    return { transport: () => Promise.reject(refusal), where: `Prometheus at ${url}` };
  }
  const direct = { host: parsed.hostname, port: Number(parsed.port || 80) };
  return { transport: (path) => options.http(direct, call(path)), where: `Prometheus at ${url}` };
}
