import type { Color, PredictionRecord } from '@mlbg/contract';
import type { CanaryAccess, TrafficMeter } from '../../backends/backend';
import { sampleOfServed } from '../../gates/analysis/served';
import type { ColorAccess } from '../../gates/gate';
import { describeCheck, judgementGates } from '../../gates/judge/describe';
import { judgeInterval } from '../../gates/judge/judge';
import { judgeLimits } from '../../gates/judge/limits';
import { type RecordsMark, colorWindow, liveAnswers, recordsMark, recordsSince, shadowPairs } from '../../gates/judge/records-source';
import type { JudgeWindow } from '../../gates/judge/window';
import type { PredictionPair } from '../../gates/prediction-diff-report';
import { replayPairs } from '../../gates/prediction-pairs';
import type { CanaryInterval } from '../../history/history';
import type { CommandContext } from '../context';
import type { CanarySettings, CanarySignals } from './canary';
import type { CanaryEvent } from './canary-phase';

/** How often a running interval reads the meter, sends probes and checks for a signal. */
export const CANARY_TICK_MS = 250;
/**
 * Requests sent to the canary color through the router's preview route before its first step (so
 * before the first window: not in the analysis): a process that has answered one preflight request
 * is still cold (JIT, allocator), and on a busy machine its first hundred answers were seen 2-3x
 * slower than the stable color's, failing the p99 comparison for a reason clients would not see
 * twice. The preview route reaches every replica of the color with one HTTP request each, on every
 * backend (a color's own socket may be a `docker exec` away).
 */
export const WARMUP_REQUESTS = 200;
export const WARMUP_CONCURRENCY = 4;
/** Probes in flight at once. */
export const PROBE_CONCURRENCY = 4;

/** How much longer than its interval an interval with probes or replays may run to reach every check's minimum sample. */
export const PROBE_EXTENSION = 3;
/** How often an extended interval reads the colors' records to see whether the answers are still short. */
const RECORDS_READ_MS = 1_000;

/** What watching an interval produced: a signal seen during it, or its analysis. */
export type Watched = Extract<CanaryEvent, { kind: 'stop-requested' | 'promote-requested' | 'analysed' }>;

/** The colors and the interval of one run, for its {@link IntervalWatcher}. */
export interface WatchedRun {
  readonly stable: Color;
  readonly canary: Color;
  readonly intervalMs: number;
  /** --expect-output-change: the answers' checks are shown, not counted. */
  readonly expectOutputChange?: boolean;
}

/** Watches one interval of a run at a weight; returns early on a signal, else with the interval's analysis. */
export type IntervalWatcher = (weight: number) => Promise<Watched>;

/**
 * The watcher of a run's intervals, one after the other, on one meter: each window begins once its
 * weight has taken effect, so it measures that weight alone, and no request is counted twice.
 */
export function intervalWatcher(
  context: CommandContext,
  canaryAccess: CanaryAccess,
  settings: CanarySettings,
  signals: CanarySignals,
  run: WatchedRun,
): IntervalWatcher {
  const meter = canaryAccess.meter({ stable: run.stable, canary: run.canary });
  return (weight) =>
    watchInterval(context, canaryAccess, meter, settings, signals, { ...run, weight, expectOutputChange: run.expectOutputChange ?? false });
}

/**
 * Watches one interval: what each color served (the backend's meter: nginx's access log locally,
 * Prometheus on Kubernetes), both colors' prediction records of the window (their
 * /admin/predictions), probes and replays when the spec says so and the data is short; then the judge.
 *
 * An interval short of any check's minimum sample runs on (with probes or replays, up to
 * PROBE_EXTENSION times its length) until every check has it; replays ask for all the pairs still
 * missing at once, so a slow machine gets them too (later, not fewer). Whether to go on is decided from the
 * sample sizes alone, never from a test's result, and the judge looks once, at the end: so the
 * extension does not raise the false-alarm rate.
 */
async function watchInterval(
  context: CommandContext,
  canaryAccess: CanaryAccess,
  meter: TrafficMeter,
  settings: CanarySettings,
  signals: CanarySignals,
  step: { stable: Color; canary: Color; weight: number; intervalMs: number; expectOutputChange: boolean },
): Promise<Watched> {
  const { clock } = context;
  const { analysis, lowTraffic, probes } = settings.spec;
  const limits = judgeLimits(
    { canary: settings.spec, predictionDiff: settings.predictionDiff },
    { expectOutputChange: step.expectOutputChange },
  );
  // The meter and the records' mark at once (on Compose each is a round of `docker exec`s, seconds on a loaded
  // machine): the move has taken effect before either, so both count only answers at this weight.
  const [, records] = await Promise.all([
    meter.begin(step.weight),
    limits.outputs ? WindowReader.start(context.backend.colors, [step.canary, step.stable]) : null,
  ]);
  const startedAt = clock.now();
  const deadline = startedAt + step.intervalMs;
  let probesSent = 0;
  const sent = new Set<string>();
  const replayed: PredictionPair[] = [];
  const probeBodies = lowTraffic === 'probe' ? (settings.probes ?? []) : [];
  const replayBodies = limits.outputs ? (settings.replay ?? probeBodies) : [];
  const extendable = probeBodies.length > 0 || replayBodies.length > 0;
  const probeDeadline = startedAt + PROBE_EXTENSION * step.intervalMs;
  let counted: Readonly<Record<Color, number>> = { blue: 0, green: 0 };
  const requestsShort = () => [step.canary, step.stable].some((color) => counted[color] < analysis.minRequests);
  const outputsShort = () =>
    limits.outputs !== null &&
    !limits.outputs.expectChange &&
    replayed.length < limits.outputs.paired.minPairs &&
    (records?.short(limits.outputs.minOutputs, sent) ?? true);
  let lastRecordsRead = -Infinity;
  const running = async () => {
    if (clock.now() < deadline) return true;
    if (!extendable || clock.now() >= probeDeadline) return false;
    if (requestsShort()) return true;
    // Past the deadline: read the records (at most once a second) to know whether the answers are short.
    if (records && clock.now() - lastRecordsRead >= RECORDS_READ_MS) {
      await records.read();
      lastRecordsRead = clock.now();
    }
    return outputsShort();
  };
  while (await running()) {
    if (signals.stopRequested()) return { kind: 'stop-requested' };
    if (signals.promoteRequested()) return { kind: 'promote-requested' };
    counted = await meter.counted();
    // Until the meter has settled, what it shows of this interval says nothing about the traffic.
    if (probeBodies.length > 0 && clock.now() - startedAt >= meter.settleMs) {
      const ticksLeft = Math.max(1, (Math.max(deadline, clock.now() + CANARY_TICK_MS) - clock.now()) / CANARY_TICK_MS);
      probesSent += await sendProbes(canaryAccess, counted, step, probeBodies, probesSent, sent, {
        atLeast: Math.max(1, Math.round((probes.ratePerSecond * CANARY_TICK_MS) / 1000)),
        ticksLeft,
        minRequests: analysis.minRequests,
      });
    }
    // Past the deadline with too few answers to judge: the same bodies to both colors, paired by request id. All the
    // pairs still missing are asked for at once (replayPairs keeps a few in flight), so the count comes from the
    // minimum, not from how many ticks a loaded machine fits in before the extension ends.
    if (clock.now() >= deadline && replayBodies.length > 0 && limits.outputs && outputsShort()) {
      const missing = limits.outputs.paired.minPairs - replayed.length;
      const batch = Array.from({ length: missing }, (_, i) => replayBodies[(replayed.length + i) % replayBodies.length] ?? '{}');
      const { pairs } = await replayPairs(context.backend.colors, step.stable, step.canary, batch).catch(() => ({ pairs: [] }));
      replayed.push(...pairs);
    }
    await clock.sleep(clock.now() < deadline ? Math.min(CANARY_TICK_MS, deadline - clock.now()) : CANARY_TICK_MS);
  }
  const [{ served, notes: meterNotes }] = await Promise.all([meter.end(), records?.read()]);
  const window: JudgeWindow = {
    canary: colorWindow(step.canary, served[step.canary], records?.of(step.canary) ?? [], sent),
    stable: colorWindow(step.stable, served[step.stable], records?.of(step.stable) ?? [], sent),
    pairs: [...shadowPairs(records?.of(step.stable) ?? [], records?.of(step.canary) ?? []), ...replayed],
  };
  const judgement = judgeInterval(window, limits);
  const notes = [...meterNotes, ...(records?.notes() ?? [])];
  return {
    kind: 'analysed',
    interval: {
      weight: step.weight,
      startedAt: new Date(startedAt).toISOString(),
      durationMs: Math.round(clock.now() - startedAt),
      verdict: judgement.verdict,
      canary: sampleOfServed(step.canary, served[step.canary]),
      stable: sampleOfServed(step.stable, served[step.stable]),
      probesSent,
      ...(replayed.length > 0 ? { replayed: replayed.length } : {}),
      checks: judgementGates(judgement),
      judgement: notes.length > 0 ? { ...judgement, reasons: [...judgement.reasons, ...notes] } : judgement,
    },
  };
}

/**
 * Both colors' prediction records of one window: the mark at its start, then what each made after
 * it, read as the window goes on. A backend or a color without records (no admin route,
 * PREDICTION_LOG_SIZE=0) gives none, and the judge says the answers had too little data.
 */
class WindowReader {
  private readonly records = new Map<Color, PredictionRecord[]>();
  private readonly problems: string[] = [];

  private constructor(
    private readonly colors: ColorAccess,
    private readonly marks: Map<Color, RecordsMark>,
  ) {}

  /** Both colors at once: on Compose each read is a `docker exec` per replica, seconds on a loaded machine. */
  static async start(colors: ColorAccess, which: readonly Color[]): Promise<WindowReader> {
    const marks = new Map<Color, RecordsMark>();
    const reader = new WindowReader(colors, marks);
    const read = await Promise.all(
      which.map((color) =>
        recordsMark(colors, color).then(
          (mark) => ({ color, mark }),
          (error: Error) => ({ color, problem: `${color}'s answers can not be read: ${error.message}` }),
        ),
      ),
    );
    for (const each of read) {
      if ('mark' in each) marks.set(each.color, each.mark);
      else reader.problems.push(each.problem);
    }
    return reader;
  }

  /** Reads what each color recorded since the last read (both colors at once). */
  async read(): Promise<void> {
    await Promise.all([...this.marks].map(([color, mark]) => this.readColor(color, mark)));
  }

  private async readColor(color: Color, mark: RecordsMark): Promise<void> {
    try {
      const window = await recordsSince(this.colors, color, mark);
      this.marks.set(color, window.mark);
      this.records.set(color, [...(this.records.get(color) ?? []), ...window.records]);
      if (window.capacity === 0) this.note(`${color} keeps no prediction records (PREDICTION_LOG_SIZE=0): its answers can not be judged`);
      if (window.missed > 0)
        this.note(`${color}'s record log overflowed: ${window.missed} answers of the window were not read (raise PREDICTION_LOG_SIZE)`);
    } catch (error) {
      this.note(`${color}'s answers can not be read: ${(error as Error).message}`);
    }
  }

  of(color: Color): PredictionRecord[] {
    return this.records.get(color) ?? [];
  }

  /** Whether either color has fewer than `rows` answer rows to live traffic so far. */
  short(rows: number, sent: ReadonlySet<string>): boolean {
    return [...this.marks.keys()].some(
      (color) => liveAnswers(this.of(color), sent).reduce((sum, answer) => sum + answer.outputs.length, 0) < rows,
    );
  }

  notes(): string[] {
    return [...this.problems];
  }

  private note(problem: string): void {
    if (!this.problems.includes(problem)) this.problems.push(problem);
  }
}

/**
 * Probes for each color still short of the minimum: the canary through the preview route, the
 * stable through the live one (where only the stable's share of them reaches it). At least
 * `atLeast` per tick, more when the minimum would not be reached in the ticks left otherwise.
 * The request id of each answer goes to `sent`, so its record is not taken for live traffic.
 */
async function sendProbes(
  canaryAccess: CanaryAccess,
  counted: Readonly<Record<Color, number>>,
  step: { stable: Color; canary: Color; weight: number },
  bodies: readonly string[],
  sentBefore: number,
  sent: Set<string>,
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
          // The id nginx gave the probe (the color echoes it): its record is not live traffic.
          .then((answer) => {
            const id = answer.headers['x-request-id'];
            if (id) sent.add(id);
          })
          .catch(() => undefined),
      ),
    );
  }
  return paths.length;
}

/** {@link WARMUP_REQUESTS} predictions from the probe samples to the canary, through the preview route; failures are left to the analysis. */
export async function warmUp(context: CommandContext, canaryAccess: CanaryAccess, canary: Color, bodies: readonly string[]): Promise<void> {
  const path = `${canaryAccess.previewPathPrefix}predict`;
  context.progress(
    `warming ${canary} up with ${WARMUP_REQUESTS} requests through the preview route (${path}; before the first window, not counted)`,
  );
  let next = 0;
  await Promise.all(
    Array.from({ length: WARMUP_CONCURRENCY }, async () => {
      while (next < WARMUP_REQUESTS) {
        const body = bodies[next % bodies.length] ?? '{}';
        next += 1;
        await canaryAccess.request({ method: 'POST', path, body }).catch(() => undefined);
      }
    }),
  );
}

/** The lines of an analysed interval, for the progress output: a summary, then one line per check. */
export function describeInterval(interval: CanaryInterval): string {
  const color = (sample: CanaryInterval['canary']) =>
    `${sample.color} ${sample.requests} req, ${sample.errorRate === null ? 'n/a' : `${(100 * sample.errorRate).toFixed(2)}%`} 5xx, p99 ${sample.p99Ms ?? 'n/a'} ms`;
  const traffic = [
    interval.probesSent ? `${interval.probesSent} probes sent` : '',
    interval.replayed ? `${interval.replayed} requests replayed to both` : '',
  ].filter(Boolean);
  const head = `analysis at ${interval.weight}%: ${interval.verdict.toUpperCase()} (canary ${color(interval.canary)}; stable ${color(interval.stable)}${traffic.length ? `; ${traffic.join('; ')}` : ''})`;
  if (!interval.judgement) {
    const failedChecks = interval.checks.filter((check) => !check.ok).map((check) => check.name);
    return `${head}${failedChecks.length ? ` failed: ${failedChecks.join(', ')}` : ''}`;
  }
  // A failed check is on its own line already; what an inconclusive interval lacked is not.
  const reasons = interval.judgement.verdict === 'inconclusive' ? interval.judgement.reasons.map((reason) => `  ${reason}`) : [];
  return [head, ...interval.judgement.checks.map((check) => `  ${describeCheck(check)}`), ...reasons].join('\n');
}
