import { SERVICE_ENV_DEFAULTS } from '@mlbg/contract';
import { COMPOSE_COMMAND_TIMEOUT_MS } from '../backends/compose/compose-backend';
import { DEFAULT_COMPOSE_TIMEOUT_MS, INSPECT_TIMEOUT_MS, POLL_MS } from '../backends/compose/compose-lifecycle';
import { ACCESS_LOG_FLUSH_MS } from '../backends/local/canary-meter';
import {
  CANARY_TICK_MS,
  PROBE_CONCURRENCY,
  PROBE_EXTENSION,
  WARMUP_CONCURRENCY,
  WARMUP_REQUESTS,
} from '../commands/canary/canary-interval';
import { DEFAULT_FEED_TIMING } from '../dashboard/feed';
import { DEFAULT_HTTP_TIMEOUT_MS } from '../effects/real-deps';
import { RECORDS_PAGE } from '../gates/judge/records-source';
import { REPLAY_CONCURRENCY } from '../gates/prediction-pairs';
import type { DeploymentSpec } from '../spec/deployment-spec';
import { composeSwitchDeadlineMs } from './compose-switch-deadline';

/** A canary run as a test starts it: its steps, its interval, and how many intervals the outcome it expects may take. */
export interface ComposeCanaryRun {
  readonly steps: readonly number[];
  readonly intervalMs: number;
  /** See {@link intervalsToPass} and {@link intervalsToRollBack}. */
  readonly intervals: number;
}

/** The most intervals a canary may observe before it promotes: each step's pass may follow `maxInconclusive - 1` holds. */
export function intervalsToPass(spec: DeploymentSpec, steps: readonly number[]): number {
  return steps.filter((weight) => weight < 100).length * spec.canary.analysis.maxInconclusive;
}

/** The most intervals before a rollback at the first observed step: `failureLimit` failures, each after as many holds as allowed. */
export function intervalsToRollBack(spec: DeploymentSpec): number {
  const { failureLimit, maxInconclusive } = spec.canary.analysis;
  return failureLimit * maxInconclusive;
}

/**
 * The longest one `deploy:canary --backend=compose` may take by the tool's own deadlines, as
 * {@link composeSwitchDeadlineMs} is for a switch: each engine command (a `docker exec`, a `compose up`) is killed
 * after COMPOSE_COMMAND_TIMEOUT_MS, each HTTP request through nginx given up after the HTTP
 * client's timeout. A test's limit on a canary: a machine busy with other work must not fail a
 * canary the tool itself still allows, and a test must never kill a canary half way (it would
 * leave the routes split, and the next command refused).
 *
 * Made of:
 * - the switch's bound: finding the compose command, reading the routes, the preflight gates,
 *   and at the end the move to one color, its check through nginx and the wait for kept connections;
 * - the warm-up: WARMUP_REQUESTS through the preview route, WARMUP_CONCURRENCY at a time;
 * - one engine command per step's move;
 * - each interval, by `canary-interval.ts`: before it, nginx's flush, /metrics and the records' mark
 *   (every replica of both colors at once, and the two at once; counted here one after the other); ticks until
 *   PROBE_EXTENSION times the interval, plus the one under way then (its probes, all the missing
 *   replays, a read of the records); after it, the flush, the records and /metrics again.
 *
 * The numbers are large (minutes per interval): almost all of it is engine commands that took
 * their whole timeout, which a healthy engine never does. They bound a test; they say nothing of
 * how long a canary takes.
 */
export function composeCanaryDeadlineMs(spec: DeploymentSpec, run: ComposeCanaryRun): number {
  const engine = COMPOSE_COMMAND_TIMEOUT_MS;
  const http = DEFAULT_HTTP_TIMEOUT_MS;
  const { analysis, probes } = spec.canary;
  const warmUp = Math.ceil(WARMUP_REQUESTS / WARMUP_CONCURRENCY) * http;
  const moves = run.steps.length * engine;

  // /metrics of every replica of both colors at once; the records of every replica of both colors at once: a page per
  // RECORDS_PAGE records kept, one more to see the end, one more when a process restarted.
  const metrics = engine;
  const marks = engine;
  const recordsRead = (2 + Math.ceil(SERVICE_ENV_DEFAULTS.PREDICTION_LOG_SIZE / RECORDS_PAGE)) * engine;
  // A tick's probes: the canary's missing minimum through the preview route, the stable's through the live route
  // (where only its share reaches it), PROBE_CONCURRENCY at a time.
  const observed = run.steps.filter((weight) => weight < 100);
  const smallestStableShare = Math.min(...observed.map((weight) => (100 - weight) / 100));
  const atLeast = Math.max(1, Math.round((probes.ratePerSecond * CANARY_TICK_MS) / 1000));
  const probesPerTick = Math.max(atLeast, analysis.minRequests) + Math.max(atLeast, Math.ceil(analysis.minRequests / smallestStableShare));
  const probing = spec.canary.lowTraffic === 'probe' ? Math.ceil(probesPerTick / PROBE_CONCURRENCY) * http : 0;
  // All the missing pairs at once, REPLAY_CONCURRENCY bodies at a time, each to both colors' sockets at once.
  const replays = Math.ceil(spec.predictionDiff.minPairs / REPLAY_CONCURRENCY) * engine;
  const lastTick = probing + replays + recordsRead + CANARY_TICK_MS;
  const interval =
    ACCESS_LOG_FLUSH_MS + metrics + marks + PROBE_EXTENSION * run.intervalMs + lastTick + ACCESS_LOG_FLUSH_MS + recordsRead + metrics;

  return composeSwitchDeadlineMs(spec) + warmUp + moves + run.intervals * interval;
}

/**
 * The longest a `deploy:release --backend=compose` that succeeds may take by its own deadlines:
 * finding the compose command and reading the routes and the live color's health (engine commands),
 * then for each replica of the color, one after the other, its recreation (a compose command) and
 * its wait to be healthy (each given up after DEFAULT_COMPOSE_TIMEOUT_MS; the wait's last round
 * is one more probe, an inspect and a pause), then the check through the preview route.
 */
export function composeReleaseDeadlineMs(spec: DeploymentSpec): number {
  const entry = (2 + 1 + 1) * COMPOSE_COMMAND_TIMEOUT_MS;
  const lastRound = COMPOSE_COMMAND_TIMEOUT_MS + INSPECT_TIMEOUT_MS + POLL_MS;
  const replica = DEFAULT_COMPOSE_TIMEOUT_MS + INSPECT_TIMEOUT_MS + DEFAULT_COMPOSE_TIMEOUT_MS + lastRound;
  return entry + spec.replicas.perColor * replica + DEFAULT_HTTP_TIMEOUT_MS;
}

/**
 * The longest one `deploy:status --backend=compose` may take by its own deadlines: it reads
 * everything at once (`compose-lifecycle.ts`), so the longest of: the route links (an engine
 * command); each replica's health probe and inspect; nginx's live and preview health (HTTP); the
 * shadow link, then the relay's counters (two engine commands, one after the other).
 */
export function composeStatusDeadlineMs(): number {
  const replica = Math.max(COMPOSE_COMMAND_TIMEOUT_MS, INSPECT_TIMEOUT_MS);
  return Math.max(COMPOSE_COMMAND_TIMEOUT_MS, replica, DEFAULT_HTTP_TIMEOUT_MS, 2 * COMPOSE_COMMAND_TIMEOUT_MS);
}

/**
 * The longest the dashboard on Compose may take to show a change (a canary's move, shadow turned
 * on): the refresh under way when it happened (a status, then each color's health at once), then
 * the next one, which starts at most its interval later.
 */
export function composeDashboardShowsWithinMs(): number {
  const refresh = composeStatusDeadlineMs() + COMPOSE_COMMAND_TIMEOUT_MS;
  return 2 * refresh + DEFAULT_FEED_TIMING.statusMs;
}
