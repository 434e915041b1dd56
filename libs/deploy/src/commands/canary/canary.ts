import { type CanaryResult, type Color, otherColor } from '@mlbg/contract';
import type { Backend, CanaryAccess } from '../../backends/backend';
import { DeployError, type DeployErrorCode } from '../../errors';
import { DEFAULT_SWITCH_TIMING, type GateFacts, type GateResult, runGates } from '../../gates';
import { settleRouteMove } from '../switch/route-settle';
import { verifyRoute } from '../switch/verify-route';
import { type AccessSample, LineBuffer, parseAccessLines } from '../../gates/analysis/access-log';
import { type Analysis, judge, sampleOf } from '../../gates/analysis/analysis';
import { type RequestTotals, delta, requestTotals } from '../../gates/analysis/metrics';
import { type CanaryEntry, type CanaryInterval, type CanaryOutcome, type HistoryInput, lastCanary } from '../../history/history';
import { type Routes, type Weights, allTo, describeWeights, mainTarget, routesWithLive, soleTarget } from '../../routing/routes';
import { linkColors } from '../../routing/slots';
import type { CanarySpec } from '../../spec/canary-spec';
import { START, type CanaryPosition, decide, stepsFrom } from './canary-decision';
import { type CommandContext, historyStamp, reasonOf } from '../context';

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

/** How long --abort and promote wait for a running canary to let go of the lock. */
const HANDOVER_WAIT_MS = 60_000;
/** After a kill -9 the lock is taken over once stale (10 s, effects/lock.ts): --resume, --abort and promote wait that long. */
const STALE_LOCK_WAIT_MS = 12_000;

/** The canary's settings: the spec's `canary` section with the flags applied, and the probe bodies. */
export interface CanarySettings {
  readonly spec: CanarySpec;
  /** JSON bodies for POST /predict probes; undefined when the spec names no sample file. */
  readonly probes?: readonly string[];
}

/** Asked of a running canary from outside (the CLI wires SIGINT/SIGTERM and SIGUSR2 to these). */
export interface CanarySignals {
  stopRequested(): boolean;
  promoteRequested(): boolean;
}

export type CanaryRequest =
  | { readonly kind: 'start'; readonly color?: Color; readonly keep: boolean; readonly expectVersion?: string }
  | { readonly kind: 'resume'; readonly keep: boolean }
  | { readonly kind: 'abort' }
  | { readonly kind: 'promote' };

/** How a canary command ended (the contract's: `--json` carries it). `ok` = it did what was asked (a rollback after a failed analysis is not ok). */
export type { CanaryResult } from '@mlbg/contract';

/** The error code of a canary that did not do what was asked (noop, promoted and aborted did). */
export const FAILED_CANARY: Record<'rolled-back' | 'stopped' | 'kept' | 'refused' | 'broken', DeployErrorCode> = {
  'rolled-back': 'CANARY_FAILED',
  stopped: 'CANARY_STOPPED',
  kept: 'CANARY_STOPPED',
  refused: 'PREFLIGHT_FAILED',
  broken: 'REVERT_FAILED',
};

/** The CLI's (and the dashboard's) verdict on a canary result: ok, or the error that says why not. */
export function canaryFailure(result: CanaryResult): DeployError | undefined {
  if (result.kind === 'noop' || result.kind === 'promoted' || result.kind === 'aborted') return undefined;
  return new DeployError(FAILED_CANARY[result.kind], `${result.canary} at ${result.weight}%: ${result.reason ?? result.kind}`);
}

/** The live weights with `weight` percent on `canary`. */
export function canaryWeights(canary: Color, weight: number): Weights {
  return canary === 'green' ? { blue: 100 - weight, green: weight } : { blue: weight, green: 100 - weight };
}

/** The routes during a canary: live split by weight, preview on the canary color. */
function canaryRoutes(canary: Color, weight: number): Routes {
  return { live: canaryWeights(canary, weight), preview: allTo(canary) };
}

function access(backend: Backend): CanaryAccess {
  if (!backend.canary)
    throw new DeployError(
      'CANARY_NOT_SUPPORTED',
      `The ${backend.kind} backend can not split live traffic by weight or read what nginx served.`,
    );
  return backend.canary;
}

/** The colors of a split live route: the larger share is the stable one. */
function splitOf(routes: Routes): { stable: Color; canary: Color; weight: number } | undefined {
  if (soleTarget(routes.live)) return undefined;
  const stable = mainTarget(routes.live);
  const canary = otherColor(stable);
  return { stable, canary, weight: routes.live[canary] };
}

/**
 * `deploy:canary`, `--resume`, `--abort` and `deploy:promote`. Start and resume hold the stack's
 * lock for the whole canary (no switch or second canary can interleave); abort and promote ask a
 * running canary (by signal) and then take the lock to finish whatever is left.
 * @throws DeployError CANARY_NOT_SUPPORTED, CANARY_IN_PROGRESS, CANARY_NOT_RUNNING, LOCKED
 */
export async function canaryCommand(
  context: CommandContext,
  request: CanaryRequest,
  settings: CanarySettings,
  signals: CanarySignals,
): Promise<CanaryResult> {
  switch (request.kind) {
    case 'start':
      return context.lock.hold({ command: `canary${request.color ? ` --color=${request.color}` : ''}`, user: context.userName }, () =>
        startCanary(context, request, settings, signals),
      );
    case 'resume':
      return context.lock.hold({ command: 'canary --resume', user: context.userName, waitMs: STALE_LOCK_WAIT_MS }, () =>
        resumeCanary(context, request.keep, settings, signals),
      );
    case 'abort':
      return handOver(context, 'abort', 'SIGTERM', () => abortCanary(context));
    case 'promote':
      return handOver(context, 'promote', 'SIGUSR2', () => promoteInterrupted(context));
    default: {
      const unreachable: never = request;
      return unreachable;
    }
  }
}

async function startCanary(
  context: CommandContext,
  request: { color?: Color; keep: boolean; expectVersion?: string },
  settings: CanarySettings,
  signals: CanarySignals,
): Promise<CanaryResult> {
  const { backend } = context;
  const canaryAccess = access(backend);
  const routes = await backend.readRoutes();
  const split = splitOf(routes);
  if (split)
    throw new DeployError('CANARY_IN_PROGRESS', `The live route is ${describeWeights(routes.live)} (${split.canary} at ${split.weight}%).`);
  const stable = mainTarget(routes.live);
  const canary = request.color ?? otherColor(stable);
  if (canary === stable) return { kind: 'noop', note: `${canary} is live already (all of it); a canary needs the idle color.` };
  ensureSlots(settings.spec.steps, canaryAccess.slots);
  return runCanary(context, settings, signals, {
    stable,
    canary,
    steps: settings.spec.steps,
    intervalMs: settings.spec.intervalSeconds * 1000,
    keep: request.keep,
    ...(request.expectVersion ? { expectVersion: request.expectVersion } : {}),
  });
}

async function resumeCanary(
  context: CommandContext,
  keep: boolean,
  settings: CanarySettings,
  signals: CanarySignals,
): Promise<CanaryResult> {
  const { backend } = context;
  const canaryAccess = access(backend);
  const routes = await backend.readRoutes();
  const split = splitOf(routes);
  if (!split) throw new DeployError('CANARY_NOT_RUNNING', `The live route is ${describeWeights(routes.live)}; there is nothing to resume.`);
  const last = lastCanary((await context.history.read()).entries, backend.kind)?.started;
  // The interrupted canary's own steps and interval, when the history has them; else the settings'.
  const steps = last && last.canary === split.canary ? last.steps : settings.spec.steps;
  const intervalMs = last && last.canary === split.canary ? last.intervalMs : settings.spec.intervalSeconds * 1000;
  ensureSlots(steps, canaryAccess.slots);
  context.progress(`Resuming the canary of ${split.canary} at ${split.weight}% (steps ${steps.join(', ')}, every ${intervalMs / 1000} s).`);
  return runCanary(context, settings, signals, {
    stable: split.stable,
    canary: split.canary,
    steps,
    intervalMs,
    keep,
    resumedAt: split.weight,
  });
}

function ensureSlots(steps: readonly number[], slots: number): void {
  const bad = steps.find((step) => (step * slots) % 100 !== 0);
  if (bad !== undefined)
    throw new DeployError(
      'USAGE',
      `The step ${bad}% can not be made with the ${slots} live slots this stack runs with (multiples of ${100 / slots}% only).`,
    );
}

interface Run {
  readonly stable: Color;
  readonly canary: Color;
  readonly steps: readonly number[];
  readonly intervalMs: number;
  readonly keep: boolean;
  readonly resumedAt?: number;
  /** The version the canary color must answer with (--expect-version; the dashboard's confirmed version). */
  readonly expectVersion?: string;
}

/** The canary proper (the caller holds the lock): preflight, steps with analysis, and its end. */
async function runCanary(context: CommandContext, settings: CanarySettings, signals: CanarySignals, run: Run): Promise<CanaryResult> {
  const { backend, progress, clock } = context;
  const canaryAccess = access(backend);
  const started = clock.now();
  const { stable, canary } = run;
  const intervals: CanaryInterval[] = [];
  let weight = run.resumedAt ?? 0;

  // The same preflight as a switch: a refused start changes nothing.
  progress(`preflight: checking ${canary} before it takes a share of ${stable}'s traffic`);
  const facts: GateFacts = {};
  const preflight =
    context.preflight.length === 0
      ? {
          failure: {
            name: 'preflight',
            ok: false,
            observed: 'no preflight gate is configured',
            expected: 'at least one gate',
            hint: 'Name gates in gates.preflight of deploy/deployment.json.',
          },
          results: [] as GateResult[],
        }
      : await runGates(context.preflight, {
          from: stable,
          to: canary,
          colors: backend.colors,
          clock,
          timing: context.timing ?? DEFAULT_SWITCH_TIMING,
          facts,
          ...(run.expectVersion ? { expectedVersion: { version: run.expectVersion, why: 'required by --expect-version' } } : {}),
        });
  const gates = [...preflight.results];
  const stableVersion = facts.live?.version ?? backend.colors.recorded(stable)?.version ?? null;
  const canaryVersion = facts.target?.version ?? backend.colors.recorded(canary)?.version ?? null;

  const entry = (outcome: CanaryOutcome, routes: Routes, reason?: string): HistoryInput => ({
    ...historyStamp(context, started),
    command: 'canary',
    outcome,
    stable,
    canary,
    stableVersion,
    canaryVersion,
    steps: [...run.steps],
    intervalMs: run.intervalMs,
    weight,
    resumed: run.resumedAt !== undefined,
    intervals: outcome === 'started' ? [] : intervals,
    routes,
    gates,
    ...(reason ? { reason } : {}),
  });
  const end = async (outcome: Exclude<CanaryOutcome, 'started'>, routes: Routes, reason?: string, note?: string): Promise<CanaryResult> => {
    context.canaryRun?.remove();
    await context.history.append(entry(outcome, routes, reason));
    return {
      kind: outcome,
      stable,
      canary,
      stableVersion,
      canaryVersion,
      weight,
      routes,
      intervals,
      gates,
      ...(reason ? { reason } : {}),
      ...(note ? { note } : {}),
    };
  };
  const before = run.resumedAt === undefined ? routesWithLive(stable) : canaryRoutes(canary, run.resumedAt);
  if (preflight.failure) return end('refused', before, preflight.failure.observed);

  /** Everything back on the stable color, in one setRoutes (one rename per slot); `broken` when even that fails. */
  const backToStable = async (outcome: 'rolled-back' | 'stopped' | 'aborted', reason: string): Promise<CanaryResult> => {
    progress(`moving all live traffic back to ${stable} (${reason})`);
    try {
      await backend.setRoutes(routesWithLive(stable));
      weight = 0;
      await settleRouteMove(context, clock.now());
      return end(outcome, routesWithLive(stable), reason);
    } catch (error) {
      return end('broken', canaryRoutes(canary, weight), `${reason}; moving the traffic back to ${stable} failed: ${reasonOf(error)}`);
    }
  };
  const promote = async (why: string): Promise<CanaryResult> => {
    progress(`promoting ${canary} (${why}): all live traffic to ${canary}`);
    const movedAt = clock.now();
    try {
      await backend.setRoutes(routesWithLive(canary));
      weight = 100;
    } catch (error) {
      return backToStable('rolled-back', `the promotion failed: ${reasonOf(error)}`);
    }
    const verified = await verifyRoute(context, 'live', canary, canaryVersion);
    gates.push(verified);
    if (!verified.ok) return backToStable('rolled-back', `after the promotion ${verified.observed}`);
    await settleRouteMove(context, movedAt);
    return end('promoted', routesWithLive(canary));
  };

  await context.history.append(entry('started', before));
  if (settings.probes && run.resumedAt === undefined) await warmUp(context, canary, settings.probes);
  // Stopped before any weight moved (during the preflight or the warm-up): nothing to move back.
  if (signals.stopRequested() && run.resumedAt === undefined) return end('stopped', before, 'stopped by a signal before the first step');
  const steps = stepsFrom(run.steps, run.resumedAt);
  let position: CanaryPosition = START;
  let lastAnalysis: CanaryInterval | null = null;
  // Each interval reads nginx's log on from where the last one stopped, so no line is counted twice or lost.
  let logOffset: number | undefined;
  for (;;) {
    const target = steps[position.step] ?? 100;
    if (target >= 100) return promote('the last step is 100%');
    if (target !== weight) {
      try {
        const moveStarted = clock.now();
        await backend.setRoutes(canaryRoutes(canary, target));
        weight = target;
        progress(
          `step ${position.step + 1} of ${steps.length}: ${canary} at ${weight}% (live ${describeWeights(canaryWeights(canary, weight))}), moved in ${Math.round(clock.now() - moveStarted)} ms`,
        );
      } catch (error) {
        return backToStable('rolled-back', `moving ${canary} to ${target}% failed: ${reasonOf(error)}`);
      }
    }
    context.canaryRun?.write({
      pid: process.pid,
      stable,
      canary,
      steps: [...steps],
      weight,
      step: position.step + 1,
      intervalMs: run.intervalMs,
      analysisAt: new Date(clock.now() + run.intervalMs).toISOString(),
      lastAnalysis,
    });
    progress(`analysing ${canary} at ${weight}% for ${run.intervalMs / 1000} s...`);
    const observed = await observeInterval(
      context,
      canaryAccess,
      settings,
      signals,
      { stable, canary, weight, intervalMs: run.intervalMs },
      logOffset,
    );
    if (observed.kind === 'stop') {
      if (run.keep) {
        progress(`stopped with --keep: ${canary} keeps ${weight}%; continue with \`npx nx run deploy:canary --resume\` or \`--abort\``);
        context.canaryRun?.remove();
        await context.history.append(entry('kept', canaryRoutes(canary, weight), 'stopped by a signal; --keep left the weight as it was'));
        return {
          kind: 'kept',
          stable,
          canary,
          stableVersion,
          canaryVersion,
          weight,
          routes: canaryRoutes(canary, weight),
          intervals,
          gates,
          reason: 'stopped by a signal (--keep)',
        };
      }
      return backToStable('stopped', `stopped by a signal at ${weight}%`);
    }
    if (observed.kind === 'promote') return promote('asked by deploy:promote');
    lastAnalysis = observed.interval;
    logOffset = observed.logOffset;
    intervals.push(observed.interval);
    progress(describeInterval(observed.interval));
    const next = decide(steps, position, observed.interval.verdict, settings.spec.analysis);
    position = next.position;
    switch (next.decision.kind) {
      case 'hold':
        progress(`holding ${canary} at ${weight}%: ${next.decision.why}`);
        break;
      case 'advance':
        break;
      case 'promote':
        return promote('every step passed its analysis');
      case 'rollback': {
        const failedChecks = observed.interval.checks
          .filter((check) => !check.ok)
          .map((check) => `${check.name}: ${check.observed} (expected ${check.expected})`);
        return backToStable('rolled-back', `${next.decision.why}: ${failedChecks.join('; ')}`);
      }
      default: {
        const unreachable: never = next.decision;
        return unreachable;
      }
    }
  }
}

type Observed =
  | { readonly kind: 'stop' }
  | { readonly kind: 'promote' }
  | { readonly kind: 'analysed'; readonly interval: CanaryInterval; readonly logOffset: number };

/**
 * Watches one interval: what nginx served (its access log, read as it grows), probes when the
 * spec says so and traffic is short, both colors' /metrics before and after; then the analysis.
 */
async function observeInterval(
  context: CommandContext,
  canaryAccess: CanaryAccess,
  settings: CanarySettings,
  signals: CanarySignals,
  step: { stable: Color; canary: Color; weight: number; intervalMs: number },
  logOffset: number | undefined,
): Promise<Observed> {
  const { clock } = context;
  const { analysis, lowTraffic, probes } = settings.spec;
  const linkColor = linkColors(canaryRoutes(step.canary, step.weight), canaryAccess.slots);
  const buffer = new LineBuffer();
  const samples: AccessSample[] = [];
  // The log is buffered: before the first interval, let nginx flush what it answered before the canary began.
  if (logOffset === undefined) await clock.sleep(ACCESS_LOG_FLUSH_MS);
  let offset = logOffset ?? (await canaryAccess.readAccessLog('end')).next;
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
    if (signals.stopRequested()) return { kind: 'stop' };
    if (signals.promoteRequested()) return { kind: 'promote' };
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
  return {
    kind: 'analysed',
    logOffset: offset,
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
async function warmUp(context: CommandContext, canary: Color, bodies: readonly string[]): Promise<void> {
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

/**
 * Abort and promote: a canary running in another process is asked by `signal` (it then moves the
 * weight itself), and this command waits for the lock; whatever is left (an interrupted canary)
 * is finished under the lock by `finish`.
 */
async function handOver(
  context: CommandContext,
  command: 'abort' | 'promote',
  signal: NodeJS.Signals,
  finish: () => Promise<CanaryResult>,
): Promise<CanaryResult> {
  const holder = context.lock.holder?.();
  let asked: number | undefined;
  if (holder && holder.command.startsWith('canary')) {
    context.progress(
      `asking the running canary (pid ${holder.pid}, \`${holder.command}\`) to ${command === 'abort' ? 'stop and move the weight back' : 'promote now'}...`,
    );
    if (holder.signal(signal)) asked = holder.pid;
  }
  return context.lock.hold(
    {
      command: command === 'abort' ? 'canary --abort' : 'promote',
      user: context.userName,
      waitMs: asked ? HANDOVER_WAIT_MS : STALE_LOCK_WAIT_MS,
    },
    async () => {
      const routes = await context.backend.readRoutes();
      if (asked !== undefined && !splitOf(routes)) {
        const live = mainTarget(routes.live);
        return {
          kind: 'noop',
          note: `the running canary (pid ${asked}) ${command === 'abort' ? 'stopped' : 'finished'}: live is ${describeWeights(routes.live)} (${live}); its history line says how it ended.`,
        };
      }
      return finish();
    },
  );
}

/** --abort of an interrupted canary (the caller holds the lock): everything back on the stable color. */
async function abortCanary(context: CommandContext): Promise<CanaryResult> {
  const split = await interrupted(context);
  const result = await finishInterrupted(context, split, 'aborted', async () => {
    await context.backend.setRoutes(routesWithLive(split.stable));
    await settleRouteMove(context, context.clock.now());
    return routesWithLive(split.stable);
  });
  return result;
}

/** deploy:promote of an interrupted canary (the caller holds the lock): everything on the canary, verified through nginx. */
async function promoteInterrupted(context: CommandContext): Promise<CanaryResult> {
  const split = await interrupted(context);
  return finishInterrupted(context, split, 'promoted', async () => {
    const movedAt = context.clock.now();
    await context.backend.setRoutes(routesWithLive(split.canary));
    const verified = await verifyRoute(
      context,
      'live',
      split.canary,
      split.last?.canaryVersion ?? context.backend.colors.recorded(split.canary)?.version ?? null,
    );
    if (!verified.ok) {
      await context.backend.setRoutes(canaryRoutes(split.canary, split.weight));
      throw new DeployError('VERIFY_FAILED', `${verified.observed}; the canary's weight was put back to ${split.weight}%.`);
    }
    await settleRouteMove(context, movedAt);
    return routesWithLive(split.canary);
  });
}

async function interrupted(context: CommandContext): Promise<{ stable: Color; canary: Color; weight: number; last?: CanaryEntry }> {
  const routes = await context.backend.readRoutes();
  const split = splitOf(routes);
  if (!split) throw new DeployError('CANARY_NOT_RUNNING', `The live route is ${describeWeights(routes.live)}.`);
  const last = lastCanary((await context.history.read()).entries, context.backend.kind)?.started;
  return { ...split, ...(last && last.canary === split.canary ? { last } : {}) };
}

async function finishInterrupted(
  context: CommandContext,
  split: { stable: Color; canary: Color; weight: number; last?: CanaryEntry },
  outcome: 'aborted' | 'promoted',
  move: () => Promise<Routes>,
): Promise<CanaryResult> {
  const started = context.clock.now();
  context.progress(`${outcome === 'aborted' ? 'aborting' : 'promoting'} the canary of ${split.canary} (at ${split.weight}%)`);
  const routes = await move();
  const stableVersion = split.last?.stableVersion ?? context.backend.colors.recorded(split.stable)?.version ?? null;
  const canaryVersion = split.last?.canaryVersion ?? context.backend.colors.recorded(split.canary)?.version ?? null;
  const weight = outcome === 'aborted' ? 0 : 100;
  context.canaryRun?.remove();
  await context.history.append({
    ...historyStamp(context, started),
    command: 'canary',
    outcome,
    stable: split.stable,
    canary: split.canary,
    stableVersion,
    canaryVersion,
    steps: split.last?.steps ?? [split.weight, 100],
    intervalMs: split.last?.intervalMs ?? 1000,
    weight,
    resumed: true,
    intervals: [],
    routes,
    gates: [],
  });
  return {
    kind: outcome,
    stable: split.stable,
    canary: split.canary,
    stableVersion,
    canaryVersion,
    weight,
    routes,
    intervals: [],
    gates: [],
  };
}
