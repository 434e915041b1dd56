import type { Color } from '@mlbg/contract';
import type { CanaryAccess } from '../../backends/backend';
import { type AccessSample, LineBuffer, parseAccessLines } from '../../gates/analysis/access-log';
import { type Analysis, judge, sampleOf } from '../../gates/analysis/analysis';
import { type RequestTotals, delta, requestTotals } from '../../gates/analysis/metrics';
import type { CanaryInterval } from '../../history/history';
import { linkColors } from '../../routing/slots';
import type { CommandContext } from '../context';
import type { CanarySettings, CanarySignals } from './canary';
import { type CanaryEvent, canaryRoutes } from './canary-phase';

/** How often a running interval reads nginx's log, sends probes and checks for a signal. */
export const CANARY_TICK_MS = 250;
/** nginx flushes its buffered access log at least this often (`flush=1s` in the renderer), plus a margin. */
export const ACCESS_LOG_FLUSH_MS = 1_200;
/**
 * Requests sent straight to the canary color (its socket, not through nginx, so not in the
 * analysis) before its first step: a process that has answered one preflight request is still
 * cold (JIT, allocator), and on a busy machine its first hundred answers were seen 2-3x slower
 * than the stable color's, failing the p99 comparison for a reason clients would not see twice.
 */
const WARMUP_REQUESTS = 200;
const WARMUP_CONCURRENCY = 4;
/** Probes in flight at once. */
const PROBE_CONCURRENCY = 4;

/** How much longer than its interval an interval with probes may run to reach the minimum request count. */
const PROBE_EXTENSION = 3;

/** What watching an interval produced: a signal seen during it, or its analysis. */
export type Watched = Extract<CanaryEvent, { kind: 'stop-requested' | 'promote-requested' | 'analysed' }>;

/** The colors and the interval of one run, for its {@link IntervalWatcher}. */
export interface WatchedRun {
  readonly stable: Color;
  readonly canary: Color;
  readonly intervalMs: number;
}

/** Watches one interval of a run at a weight; returns early on a signal, else with the interval's analysis. */
export type IntervalWatcher = (weight: number) => Promise<Watched>;

/**
 * The watcher of a run's intervals, one after the other. Each reads nginx's log on from where the
 * last one stopped, so no line is counted twice or lost.
 */
export function intervalWatcher(
  context: CommandContext,
  canaryAccess: CanaryAccess,
  settings: CanarySettings,
  signals: CanarySignals,
  run: WatchedRun,
): IntervalWatcher {
  const log: LogCursor = {};
  return (weight) => watchInterval(context, canaryAccess, settings, signals, { ...run, weight }, log);
}

/** Where the next interval reads nginx's access log from; unset before the first. */
interface LogCursor {
  offset?: number;
}

/**
 * Watches one interval: what nginx served (its access log, read as it grows), probes when the
 * spec says so and traffic is short, both colors' /metrics before and after; then the analysis.
 */
async function watchInterval(
  context: CommandContext,
  canaryAccess: CanaryAccess,
  settings: CanarySettings,
  signals: CanarySignals,
  step: { stable: Color; canary: Color; weight: number; intervalMs: number },
  log: LogCursor,
): Promise<Watched> {
  const { clock } = context;
  const { analysis, lowTraffic, probes } = settings.spec;
  const linkColor = linkColors(canaryRoutes(step.canary, step.weight), canaryAccess.slots);
  const buffer = new LineBuffer();
  const samples: AccessSample[] = [];
  // The log is buffered: before the first interval, let nginx flush what it answered before the canary began.
  if (log.offset === undefined) await clock.sleep(ACCESS_LOG_FLUSH_MS);
  let offset = log.offset ?? (await canaryAccess.readAccessLog('end')).next;
  const read = async () => {
    const chunk = await canaryAccess.readAccessLog(offset);
    offset = chunk.next;
    samples.push(...parseAccessLines(buffer.push(chunk.text), linkColor));
  };
  const metricsBefore = await bothMetrics(canaryAccess, step);
  const startedAt = clock.now();
  const deadline = startedAt + step.intervalMs;
  let probesSent = 0;
  const probeBodies = lowTraffic === 'probe' ? (settings.probes ?? []) : [];
  // With probes, an interval short of the minimum runs on (up to PROBE_EXTENSION times its length)
  // until both colors have it: on a slow machine the probes need longer, and too little traffic is
  // never a pass. Without probes the interval ends on time and says it had too little traffic.
  const probeDeadline = startedAt + PROBE_EXTENSION * step.intervalMs;
  const enough = () =>
    [step.canary, step.stable].every((color) => samples.filter((sample) => sample.color === color).length >= analysis.minRequests);
  const running = () => clock.now() < deadline || (probeBodies.length > 0 && clock.now() < probeDeadline && !enough());
  while (running()) {
    if (signals.stopRequested()) return { kind: 'stop-requested' };
    if (signals.promoteRequested()) return { kind: 'promote-requested' };
    await read();
    // Until nginx has flushed its log once, what it shows of this interval says nothing about the traffic.
    if (probeBodies.length > 0 && clock.now() - startedAt >= ACCESS_LOG_FLUSH_MS) {
      const ticksLeft = Math.max(1, (Math.max(deadline, clock.now() + CANARY_TICK_MS) - clock.now()) / CANARY_TICK_MS);
      probesSent += await sendProbes(canaryAccess, samples, step, probeBodies, probesSent, {
        atLeast: Math.max(1, Math.round((probes.ratePerSecond * CANARY_TICK_MS) / 1000)),
        ticksLeft,
        minRequests: analysis.minRequests,
      });
    }
    await clock.sleep(clock.now() < deadline ? Math.min(CANARY_TICK_MS, deadline - clock.now()) : CANARY_TICK_MS);
  }
  await clock.sleep(ACCESS_LOG_FLUSH_MS);
  await read();
  const metricsAfter = await bothMetrics(canaryAccess, step);
  const metricsDelta = (color: Color): RequestTotals | null => {
    const [earlier, later] = [metricsBefore[color], metricsAfter[color]];
    return earlier && later ? delta(earlier, later) : null;
  };
  const judged: Analysis = judge(
    sampleOf(step.canary, samples, metricsDelta(step.canary)),
    sampleOf(step.stable, samples, metricsDelta(step.stable)),
    analysis,
  );
  log.offset = offset;
  return {
    kind: 'analysed',
    interval: {
      weight: step.weight,
      startedAt: new Date(startedAt).toISOString(),
      durationMs: Math.round(clock.now() - startedAt),
      verdict: judged.verdict,
      canary: judged.canary,
      stable: judged.stable,
      probesSent,
      checks: [...judged.checks],
    },
  };
}

/**
 * Probes for each color still short of the minimum: the canary through the preview route, the
 * stable through the live one (where only the stable's share of them reaches it). At least
 * `atLeast` per tick, more when the minimum would not be reached in the ticks left otherwise.
 */
async function sendProbes(
  canaryAccess: CanaryAccess,
  samples: readonly AccessSample[],
  step: { stable: Color; canary: Color; weight: number },
  bodies: readonly string[],
  sentBefore: number,
  pace: { atLeast: number; ticksLeft: number; minRequests: number },
): Promise<number> {
  const short = (color: Color) => Math.max(0, pace.minRequests - samples.filter((sample) => sample.color === color).length);
  const perTick = (missing: number, share: number) =>
    missing === 0 ? 0 : Math.max(pace.atLeast, Math.ceil(missing / share / pace.ticksLeft));
  const toCanary = Array.from({ length: perTick(short(step.canary), 1) }, () => `${canaryAccess.previewPathPrefix}predict`);
  const toLive = Array.from({ length: perTick(short(step.stable), (100 - step.weight) / 100) }, () => '/predict');
  // Interleaved, so no batch is all one color's: a color sent more at once queues more, and would be measured slower.
  const paths = Array.from({ length: Math.max(toCanary.length, toLive.length) }, (_, index) => [toCanary[index], toLive[index]])
    .flat()
    .filter((path): path is string => path !== undefined);
  // A failed probe is an answer nginx logs (or a connection error it logs as 502): the analysis counts it there.
  // At most PROBE_CONCURRENCY at once: a burst of probes would queue at the colors and be measured as their latency.
  for (let start = 0; start < paths.length; start += PROBE_CONCURRENCY) {
    const batch = paths.slice(start, start + PROBE_CONCURRENCY);
    await Promise.all(
      batch.map((path, index) =>
        canaryAccess
          .request({ method: 'POST', path, body: bodies[(sentBefore + start + index) % bodies.length] ?? '{}' })
          .catch(() => undefined),
      ),
    );
  }
  return paths.length;
}

/** {@link WARMUP_REQUESTS} predictions from the probe samples, straight to the canary color; failures are left to the analysis. */
export async function warmUp(context: CommandContext, canary: Color, bodies: readonly string[]): Promise<void> {
  context.progress(`warming ${canary} up with ${WARMUP_REQUESTS} requests to its own socket (not counted)`);
  let next = 0;
  await Promise.all(
    Array.from({ length: WARMUP_CONCURRENCY }, async () => {
      while (next < WARMUP_REQUESTS) {
        const body = bodies[next % bodies.length] ?? '{}';
        next += 1;
        await context.backend.colors.predict(canary, body).catch(() => undefined);
      }
    }),
  );
}

async function bothMetrics(
  canaryAccess: CanaryAccess,
  step: { stable: Color; canary: Color },
): Promise<Partial<Record<Color, RequestTotals>>> {
  const one = async (color: Color): Promise<RequestTotals | undefined> => {
    const answer = await canaryAccess.metrics(color).catch(() => undefined);
    return answer && answer.status === 200 ? requestTotals(answer.body) : undefined;
  };
  const [stable, canary] = await Promise.all([one(step.stable), one(step.canary)]);
  return { ...(stable ? { [step.stable]: stable } : {}), ...(canary ? { [step.canary]: canary } : {}) };
}

/** One line per analysed interval, for the progress output. */
export function describeInterval(interval: CanaryInterval): string {
  const color = (sample: CanaryInterval['canary']) =>
    `${sample.color} ${sample.requests} req, ${sample.errorRate === null ? 'n/a' : `${(100 * sample.errorRate).toFixed(2)}%`} 5xx, p99 ${sample.p99Ms ?? 'n/a'} ms`;
  const failedChecks = interval.checks.filter((check) => !check.ok).map((check) => check.name);
  return `analysis at ${interval.weight}%: ${interval.verdict.toUpperCase()} (canary ${color(interval.canary)}; stable ${color(interval.stable)}${interval.probesSent ? `; ${interval.probesSent} probes sent` : ''})${failedChecks.length ? ` failed: ${failedChecks.join(', ')}` : ''}`;
}
