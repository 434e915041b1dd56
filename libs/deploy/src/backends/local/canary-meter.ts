import type { Color } from '@mlbg/contract';
import type { Clock, HttpAnswer } from '../../effects/deps';
import { type AccessSample, LineBuffer, parseAccessLines } from '../../gates/analysis/access-log';
import { type RequestTotals, delta, requestTotals } from '../../gates/analysis/metrics';
import type { ServedTraffic } from '../../gates/analysis/served';
import { type Routes, allTo } from '../../routing/routes';
import { linkColors } from '../../routing/slots';
import type { MeteredWindow, PastWindow, TrafficMeter } from '../backend';

/** nginx flushes its buffered access log at least this often (`flush=1s` in the renderer), plus a margin. */
export const ACCESS_LOG_FLUSH_MS = 1_200;

/** What the local meter reads: nginx's access log from a byte offset, and a color's own /metrics. */
export interface LocalMeterSources {
  readonly slots: number;
  readonly clock: Clock;
  /** nginx's JSON access log from byte `from` (`end`: nothing, just where it ends now). */
  readAccessLog(from: number | 'end'): Promise<{ readonly text: string; readonly next: number }>;
  metrics(color: Color): Promise<HttpAnswer>;
}

/**
 * The local stack's meter: what nginx served, from its access log read as it grows (each line
 * names the color that answered, or the slot link nginx tried when it answered itself), and each
 * color's own /metrics before and after. Each window starts where the log ends once the weight it
 * measures has taken effect (after nginx's flush), so each window's lines were all served at its own
 * weight and no line is counted twice; what was served between two windows is in neither.
 */
export function localMeter(sources: LocalMeterSources, colors: { readonly stable: Color; readonly canary: Color }): TrafficMeter {
  let offset: number | undefined;
  let window: {
    samples: AccessSample[];
    buffer: LineBuffer;
    linkColor: ReturnType<typeof linkColors>;
    before: Partial<Record<Color, RequestTotals>>;
  };

  const read = async () => {
    const chunk = await sources.readAccessLog(offset ?? 'end');
    offset = chunk.next;
    window.samples.push(...parseAccessLines(window.buffer.push(chunk.text), window.linkColor));
  };
  const bothMetrics = async (): Promise<Partial<Record<Color, RequestTotals>>> => {
    const one = async (color: Color) => {
      const answer = await sources.metrics(color).catch(() => undefined);
      return answer && answer.status === 200 ? requestTotals(answer.body) : undefined;
    };
    const entries = await Promise.all([colors.stable, colors.canary].map(async (color) => [color, await one(color)] as const));
    return Object.fromEntries(entries.filter(([, totals]) => totals !== undefined));
  };
  const count = (color: Color) => window.samples.filter((sample) => sample.color === color).length;

  return {
    settleMs: ACCESS_LOG_FLUSH_MS,
    async begin(weight) {
      const live = colors.canary === 'green' ? { blue: 100 - weight, green: weight } : { blue: weight, green: 100 - weight };
      window = {
        samples: [],
        buffer: new LineBuffer(),
        linkColor: linkColors({ live, preview: allTo(colors.canary) }, sources.slots),
        before: {},
      };
      // Every window starts after its move has taken effect: the log is buffered, so let nginx flush what it
      // answered before (at the weight before, or before the canary began), then count from where the log ends.
      // What was served between two windows is in neither: on Compose the reads between them are `docker exec`s
      // taking seconds, and counting on from the last window put seconds of the weight before into this one.
      await sources.clock.sleep(ACCESS_LOG_FLUSH_MS);
      offset = (await sources.readAccessLog('end')).next;
      window.before = await bothMetrics();
    },
    async counted() {
      await read();
      return { [colors.stable]: count(colors.stable), [colors.canary]: count(colors.canary) } as Record<Color, number>;
    },
    async end() {
      await sources.clock.sleep(ACCESS_LOG_FLUSH_MS);
      await read();
      const after = await bothMetrics();
      const served = (color: Color): ServedTraffic => {
        const [earlier, later] = [window.before[color], after[color]];
        const requests = window.samples.filter((sample) => sample.color === color);
        return { kind: 'requests', requests, own: earlier && later ? delta(earlier, later) : null };
      };
      return {
        served: { [colors.stable]: served(colors.stable), [colors.canary]: served(colors.canary) } as Record<Color, ServedTraffic>,
        notes: [],
      };
    },
  };
}

/**
 * What each color served in a window that already happened, from nginx's access log (each line's
 * time). What nginx answered by itself (a 502 with no color) goes to the color its slot link points
 * at now: the routes of then are not kept.
 */
export async function localServedBetween(
  sources: Pick<LocalMeterSources, 'readAccessLog' | 'slots'>,
  window: PastWindow,
  routes: Routes,
): Promise<MeteredWindow> {
  const inWindow = (time: string | undefined) => {
    const at = time === undefined ? NaN : Date.parse(time);
    return at >= window.sinceMs && at <= window.untilMs;
  };
  const log = await sources.readAccessLog(0);
  const lines = log.text.split('\n').filter((line) => inWindow(/"time":"([^"]+)"/.exec(line)?.[1]));
  const requests = parseAccessLines(lines.join('\n'), linkColors(routes, sources.slots));
  const served = (color: Color): ServedTraffic => ({
    kind: 'requests',
    requests: requests.filter((sample) => sample.color === color),
    own: null,
  });
  return { served: { blue: served('blue'), green: served('green') }, notes: [] };
}
