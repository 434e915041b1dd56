import type { Color } from '@mlbg/contract';
import type { CanaryAccess, TrafficMeter } from '../../backends/backend';
import { type Analysis, judge } from '../../gates/analysis/analysis';
import { sampleOfServed } from '../../gates/analysis/served';
import type { CanaryInterval } from '../../history/history';
import type { CommandContext } from '../context';
import type { CanarySettings, CanarySignals } from './canary';
import type { CanaryEvent } from './canary-phase';

/** How often a running interval reads the meter, sends probes and checks for a signal. */
export const CANARY_TICK_MS = 250;
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
 * The watcher of a run's intervals, one after the other, over the backend's {@link TrafficMeter}
 * (one meter per run, so each window starts where the last one ended).
 */
export function intervalWatcher(
  context: CommandContext,
  canaryAccess: CanaryAccess,
  settings: CanarySettings,
  signals: CanarySignals,
  run: WatchedRun,
): IntervalWatcher {
  const meter = canaryAccess.meter({ stable: run.stable, canary: run.canary });
  return (weight) => watchInterval(context, canaryAccess, meter, settings, signals, { ...run, weight });
}

/**
 * Watches one interval: what each color served (the backend's meter, read as the interval goes),
 * probes when the spec says so and traffic is short; then the analysis.
 */
async function watchInterval(
  context: CommandContext,
  canaryAccess: CanaryAccess,
  meter: TrafficMeter,
  settings: CanarySettings,
  signals: CanarySignals,
  step: { stable: Color; canary: Color; weight: number; intervalMs: number },
): Promise<Watched> {
  const { clock } = context;
  const { analysis, lowTraffic, probes } = settings.spec;
  await meter.begin(step.weight);
  const startedAt = clock.now();
  const deadline = startedAt + step.intervalMs;
  let probesSent = 0;
  let counted: Readonly<Record<Color, number>> = { blue: 0, green: 0 };
  const probeBodies = lowTraffic === 'probe' ? (settings.probes ?? []) : [];
  // With probes, an interval short of the minimum runs on (up to PROBE_EXTENSION times its length)
  // until both colors have it: on a slow machine the probes need longer, and too little traffic is
  // never a pass. Without probes the interval ends on time and says it had too little traffic.
  const probeDeadline = startedAt + PROBE_EXTENSION * step.intervalMs;
  const enough = () => [step.canary, step.stable].every((color) => counted[color] >= analysis.minRequests);
  const running = () => clock.now() < deadline || (probeBodies.length > 0 && clock.now() < probeDeadline && !enough());
  while (running()) {
    if (signals.stopRequested()) return { kind: 'stop-requested' };
    if (signals.promoteRequested()) return { kind: 'promote-requested' };
    counted = await meter.counted();
    // Until the meter has settled, what it shows of this interval says nothing about the traffic.
    if (probeBodies.length > 0 && clock.now() - startedAt >= meter.settleMs) {
      const ticksLeft = Math.max(1, (Math.max(deadline, clock.now() + CANARY_TICK_MS) - clock.now()) / CANARY_TICK_MS);
      probesSent += await sendProbes(canaryAccess, counted, step, probeBodies, probesSent, {
        atLeast: Math.max(1, Math.round((probes.ratePerSecond * CANARY_TICK_MS) / 1000)),
        ticksLeft,
        minRequests: analysis.minRequests,
      });
    }
    await clock.sleep(clock.now() < deadline ? Math.min(CANARY_TICK_MS, deadline - clock.now()) : CANARY_TICK_MS);
  }
  const { served, notes } = await meter.end();
  for (const note of notes) context.progress(`  ${note}`);
  const judged: Analysis = judge(
    sampleOfServed(step.canary, served[step.canary]),
    sampleOfServed(step.stable, served[step.stable]),
    analysis,
  );
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
  counted: Readonly<Record<Color, number>>,
  step: { stable: Color; canary: Color; weight: number },
  bodies: readonly string[],
  sentBefore: number,
  pace: { atLeast: number; ticksLeft: number; minRequests: number },
): Promise<number> {
  const short = (color: Color) => Math.max(0, pace.minRequests - counted[color]);
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

/** One line per analysed interval, for the progress output. */
export function describeInterval(interval: CanaryInterval): string {
  const color = (sample: CanaryInterval['canary']) =>
    `${sample.color} ${sample.requests} req, ${sample.errorRate === null ? 'n/a' : `${(100 * sample.errorRate).toFixed(2)}%`} 5xx, p99 ${sample.p99Ms ?? 'n/a'} ms`;
  const failedChecks = interval.checks.filter((check) => !check.ok).map((check) => check.name);
  return `analysis at ${interval.weight}%: ${interval.verdict.toUpperCase()} (canary ${color(interval.canary)}; stable ${color(interval.stable)}${interval.probesSent ? `; ${interval.probesSent} probes sent` : ''})${failedChecks.length ? ` failed: ${failedChecks.join(', ')}` : ''}`;
}
