import type { Color } from '@mlbg/contract';
import { once } from 'node:events';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The service's latency buckets (seconds), as its histograms have them. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** How one color answers the traffic it gets: the share of 5xx, and the bucket every answer falls in. */
export interface ColorBehaviour {
  errorShare: number;
  /** Seconds: every answer that is not 5xx took at most this (one of BUCKETS). */
  latency: number;
}

/**
 * A fake Prometheus on a loopback port, for the canary's control flow against the fake API server:
 * it answers the queries the Kubernetes meter asks (`time()`, each pod's last scrape, each color's
 * counters per pod) from traffic it makes up as it is asked: `rps` requests a second, split between
 * the colors as the gateway would (`shares`), over each color's pods, each color answering as its
 * {@link ColorBehaviour} says. Every pod is "scraped" whenever it is asked. The real PromQL is run
 * against a real Prometheus elsewhere (prometheus-meter.int.spec.ts); this one only has to follow the
 * canary's weights.
 */
export class FakePrometheus {
  private server!: Server;
  private last = Date.now();
  /** pod -> [answered, 5xx] (fractions kept, whole numbers shown). */
  private readonly counts = new Map<string, [number, number]>();
  readonly queries: string[] = [];

  constructor(
    private readonly options: {
      readonly rps: number;
      readonly shares: () => Record<Color, number>;
      readonly pods: (color: Color) => readonly string[];
      readonly behaviour: Record<Color, ColorBehaviour>;
    },
  ) {}

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://fake');
      const query = url.searchParams.get('query') ?? '';
      this.queries.push(query);
      const data = url.pathname === '/api/v1/query' ? this.answer(query) : undefined;
      response.writeHead(data ? 200 : 400, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify(data ? { status: 'success', data } : { status: 'error', errorType: 'bad_data', error: `not faked: ${query}` }),
      );
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private advance(): number {
    const now = Date.now();
    const seconds = (now - this.last) / 1000;
    this.last = now;
    const shares = this.options.shares();
    for (const color of ['blue', 'green'] as const) {
      const pods = this.options.pods(color);
      for (const pod of pods) {
        const served = (this.options.rps * seconds * shares[color]) / pods.length;
        const [answered, errors] = this.counts.get(pod) ?? [0, 0];
        this.counts.set(pod, [answered + served, errors + served * this.options.behaviour[color].errorShare]);
      }
    }
    return now / 1000;
  }

  private answer(query: string): object | undefined {
    const now = this.advance();
    const sample = (metric: Record<string, string>, value: number) => ({ metric, value: [now, String(value)] });
    if (query === 'time()') return { resultType: 'scalar', result: [now, String(now)] };
    const colors = (/color=~"([^"]+)"/.exec(query)?.[1]?.split('|') ?? [/color="([^"]+)"/.exec(query)?.[1]]).filter(
      (color): color is Color => color === 'blue' || color === 'green',
    );
    const pods = colors.flatMap((color) => this.options.pods(color).map((pod) => ({ pod, color })));
    if (query.startsWith('timestamp(up{'))
      return { resultType: 'vector', result: pods.map(({ pod, color }) => sample({ pod, color }, now)) };
    if (query.startsWith('up{')) return { resultType: 'vector', result: pods.map(({ pod, color }) => sample({ pod, color }, 1)) };
    if (query.includes('http_requests_total'))
      return {
        resultType: 'vector',
        result: pods.flatMap(({ pod }) => {
          const [answered, errors] = (this.counts.get(pod) ?? [0, 0]).map(Math.floor) as [number, number];
          return [sample({ pod, status: '200' }, answered - errors), sample({ pod, status: '500' }, errors)];
        }),
      };
    if (query.includes('http_request_duration_seconds_bucket'))
      return {
        resultType: 'vector',
        result: pods.flatMap(({ pod, color }) => {
          const [answered, errors] = (this.counts.get(pod) ?? [0, 0]).map(Math.floor) as [number, number];
          const { latency } = this.options.behaviour[color];
          return [...BUCKETS, Infinity].map((le) =>
            sample({ pod, le: le === Infinity ? '+Inf' : String(le) }, le >= latency ? answered - errors : 0),
          );
        }),
      };
    return undefined;
  }
}
