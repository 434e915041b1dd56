import { type Color, HealthResponse, PredictResponse } from '@mlbg/contract';
import type { Clock, HttpAnswer } from '../effects/deps';
import { DeployError } from '../errors';
import { type DeployTarget, appendHistory, readHistory } from '../effects/history';
import type { StackLayout } from '../backends/local/layout';
import { withStackLock } from '../effects/lock';
import { type SwitchEvent, type SwitchOutcome, type SwitchPhase, nextPhase, startSwitch } from './switch-phase';
import { planRollback, planSwitch } from '../routing/plan';

/**
 * How a switch reaches one deployment (the local stack, or Compose): read and move the live route,
 * and talk to each color directly (through its own socket, the very path nginx takes) and to nginx.
 */
export interface SwitchBackend {
  readonly target: DeployTarget;
  /** Where nginx answers, for messages, e.g. `http://127.0.0.1:80`. */
  readonly routerUrl: string;
  /** The color the live route points at right now. */
  liveColor(): Promise<Color>;
  /** The version the color was started with (by `up` or `release`), when known. */
  recordedVersion(color: Color): string | undefined;
  /** The feature count the color was started with, when known (used when the live color does not answer). */
  recordedFeatureCount(color: Color): number | undefined;
  /** GET /health of one color, not through nginx. Rejects when it can not connect. */
  health(color: Color): Promise<HttpAnswer>;
  /** POST /predict to one color, not through nginx. */
  predict(color: Color, body: string): Promise<HttpAnswer>;
  /** GET /health through nginx's live route. */
  routerHealth(): Promise<HttpAnswer>;
  /** Moves the live route to `color` and the preview route to the other color, each with one rename. */
  pointLiveAt(color: Color): Promise<void>;
}

/** How many checks, how far apart: a color must answer several times in a row, not once by luck. */
export interface SwitchTiming {
  readonly healthChecks: number;
  readonly healthIntervalMs: number;
  readonly verifyChecks: number;
  readonly verifyIntervalMs: number;
}
export const DEFAULT_SWITCH_TIMING: SwitchTiming = { healthChecks: 3, healthIntervalMs: 200, verifyChecks: 3, verifyIntervalMs: 100 };

/** Rows of the preflight's /predict: three, like the original example `[[1],[2],[3]]`. */
const PREFLIGHT_ROWS = [1, 2, 3];

/** A version the target must answer with, and why (for the refusal message). */
export interface ExpectedVersion {
  readonly version: string;
  readonly why: string;
}

/** What a switch or rollback command ended with. `noop` = the color was already live. */
export type SwitchResult =
  | { readonly kind: 'noop'; readonly color: Color; readonly version: string | null; readonly note?: string }
  | SwitchOutcome;

export interface SwitchContext {
  readonly layout: StackLayout;
  readonly clock: Clock;
  readonly userName: string;
  readonly progress: (line: string) => void;
  readonly timing?: SwitchTiming;
}

/**
 * `deploy:switch`: under the stack's lock, moves live traffic to `color` (undefined = toggle) if
 * and only if it passes the preflight, verifies through nginx (moving back if that fails), and
 * appends the attempt to the history.
 * @throws DeployError LOCKED when another deploy command runs; whatever `backend.liveColor` throws
 */
export function switchTraffic(backend: SwitchBackend, context: SwitchContext, request: { color?: Color; expectVersion?: string }): Promise<SwitchResult> {
  return withStackLock(context.layout, { command: `switch${request.color ? ` --color=${request.color}` : ''}`, user: context.userName }, async () => {
    const live = await backend.liveColor();
    const plan = planSwitch(live, request.color);
    if (plan.kind === 'noop') return { kind: 'noop', color: live, version: backend.recordedVersion(live) ?? null };
    const expect = request.expectVersion ? { version: request.expectVersion, why: 'required by --expect-version' } : undefined;
    return runAndRecord(backend, context, 'switch', plan.from, plan.to, expect);
  });
}

/**
 * `deploy:rollback`: switches back to the color that was live before the last successful switch,
 * with the same preflight, insisting it still runs the version it ran then.
 * @throws DeployError NOTHING_TO_ROLL_BACK when the history has no successful switch
 */
export function rollbackTraffic(backend: SwitchBackend, context: SwitchContext): Promise<SwitchResult> {
  return withStackLock(context.layout, { command: 'rollback', user: context.userName }, async () => {
    const live = await backend.liveColor();
    const history = readHistory(context.layout.historyFile);
    const plan = planRollback(history.entries, backend.target, live);
    switch (plan.kind) {
      case 'nothing':
        throw new DeployError('NOTHING_TO_ROLL_BACK', `${capitalize(plan.reason)} (${context.layout.historyFile}); ${live} is live.`);
      case 'noop':
        return {
          kind: 'noop',
          color: live,
          version: backend.recordedVersion(live) ?? null,
          note: `the last switch (${plan.basedOn.time}) went ${plan.basedOn.from} -> ${plan.basedOn.to}, and ${live} is live again already`,
        };
      case 'switch':
        return runAndRecord(
          backend,
          context,
          'rollback',
          plan.from,
          plan.to,
          plan.expectVersion
            ? { version: plan.expectVersion, why: `${plan.to} ran it before the last switch (${plan.basedOn.time}) and a rollback returns to it; it was released again since, so use deploy:switch --color=${plan.to} if you mean to go to what it runs now` }
            : undefined,
        );
      default: {
        const unreachable: never = plan;
        return unreachable;
      }
    }
  });
}

async function runAndRecord(
  backend: SwitchBackend,
  context: SwitchContext,
  command: 'switch' | 'rollback',
  from: Color,
  to: Color,
  expect: ExpectedVersion | undefined,
): Promise<SwitchOutcome> {
  const started = context.clock.now();
  const outcome = await runSwitch(backend, context, from, to, expect);
  appendHistory(context.layout.historyFile, {
    time: new Date(started).toISOString(),
    user: context.userName,
    target: backend.target,
    command,
    from,
    to,
    fromVersion: outcome.fromVersion,
    toVersion: outcome.toVersion,
    outcome: outcome.kind,
    durationMs: Math.round(context.clock.now() - started),
    ...(outcome.kind === 'switched' ? {} : { reason: outcome.kind === 'broken' ? `${outcome.reason}; switching back failed: ${outcome.revertError}` : outcome.reason }),
  });
  return outcome;
}

/** Drives the phases of one switch to its outcome (no lock, no history: see {@link switchTraffic}). */
export async function runSwitch(
  backend: SwitchBackend,
  context: Pick<SwitchContext, 'clock' | 'progress' | 'timing'>,
  from: Color,
  to: Color,
  expect?: ExpectedVersion,
): Promise<SwitchOutcome> {
  const timing = context.timing ?? DEFAULT_SWITCH_TIMING;
  let phase: SwitchPhase = startSwitch(from, to);
  while (phase.kind !== 'done') {
    phase = nextPhase(phase, await perform(phase));
  }
  return phase.outcome;

  async function perform(current: Exclude<SwitchPhase, { kind: 'done' }>): Promise<SwitchEvent> {
    switch (current.kind) {
      case 'preflight':
        context.progress(`preflight: checking ${current.to} before it takes traffic from ${current.from}`);
        return preflight(backend, context.clock, timing, current.from, current.to, expect);
      case 'flip':
        try {
          await backend.pointLiveAt(current.to);
          context.progress(`moved the live route to ${current.to}; verifying through nginx`);
          return { kind: 'flipped' };
        } catch (error) {
          return { kind: 'flip-failed', reason: reasonOf(error) };
        }
      case 'verify':
        return verify(backend, context.clock, timing, current.to, current.toVersion);
      case 'revert':
        context.progress(`verification failed (${current.failure}); moving the live route back to ${current.from}`);
        try {
          await backend.pointLiveAt(current.from);
          return { kind: 'reverted' };
        } catch (error) {
          return { kind: 'revert-failed', reason: reasonOf(error) };
        }
      default: {
        const unreachable: never = current;
        return unreachable;
      }
    }
  }
}

type Parsed<T> = { ok: true; value: T; answer: HttpAnswer } | { ok: false; problem: string };

/** One GET /health of a color, judged: 200 with status "ok", or why not. */
async function probeHealth(call: () => Promise<HttpAnswer>): Promise<Parsed<HealthResponse>> {
  let answer: HttpAnswer;
  try {
    answer = await call();
  } catch (error) {
    return { ok: false, problem: `no answer (${reasonOf(error)})` };
  }
  const health = parseJson(answer.body, HealthResponse);
  if (answer.status !== 200 || !health || health.status !== 'ok') {
    return { ok: false, problem: `answered ${answer.status}${health ? ` with status "${health.status}"` : `: ${answer.body.slice(0, 160)}`}` };
  }
  return { ok: true, value: health, answer };
}

async function preflight(backend: SwitchBackend, clock: Clock, timing: SwitchTiming, from: Color, to: Color, expect: ExpectedVersion | undefined): Promise<SwitchEvent> {
  const checks: string[] = [];
  const recorded = backend.recordedVersion(to);
  let expected = expect?.version ?? recorded;
  let expectedWhy = expect?.why ?? 'the version recorded when it was started';
  const refuse = (reason: string, toVersion: string | null = null, fromVersion: string | null = null): SwitchEvent => ({
    kind: 'preflight-failed',
    reason,
    fromVersion,
    toVersion,
    checks,
  });

  let health: HealthResponse | undefined;
  for (let check = 1; check <= timing.healthChecks; check += 1) {
    const probe = await probeHealth(() => backend.health(to));
    const where = `${to} /health (check ${check} of ${timing.healthChecks})`;
    if (!probe.ok) return refuse(`${where} ${probe.problem}.`);
    if (probe.value.color !== to) return refuse(`${where} was answered by ${probe.value.color}: the ${to} socket reaches the wrong service.`);
    if (expected !== undefined && probe.value.version !== expected) {
      return refuse(`${where} answered version ${probe.value.version}, but expected ${expected}: ${expectedWhy}.`, probe.value.version);
    }
    if (expected === undefined) [expected, expectedWhy] = [probe.value.version, 'what its first check answered'];
    health = probe.value;
    if (check < timing.healthChecks) await clock.sleep(timing.healthIntervalMs);
  }
  if (!health) return refuse(`no /health check was configured.`);
  const toVersion = health.version;
  checks.push(`${to} /health: 200 "ok" ${toVersion}, ${timing.healthChecks} times in a row`);

  const rows = PREFLIGHT_ROWS.map((value) => Array.from({ length: health?.feature_count ?? 1 }, () => value));
  let predictAnswer: HttpAnswer;
  try {
    predictAnswer = await backend.predict(to, JSON.stringify({ features: rows }));
  } catch (error) {
    return refuse(`${to} POST /predict: no answer (${reasonOf(error)}).`, toVersion);
  }
  const prediction = parseJson(predictAnswer.body, PredictResponse);
  if (predictAnswer.status !== 200 || !prediction) {
    return refuse(`${to} POST /predict answered ${predictAnswer.status}: ${predictAnswer.body.slice(0, 200)}`, toVersion);
  }
  if (prediction.predictions.length !== rows.length || !prediction.predictions.every(Number.isFinite) || prediction.model_version !== toVersion) {
    return refuse(`${to} POST /predict gave ${prediction.predictions.length} prediction(s) from ${prediction.model_version} for ${rows.length} rows to ${toVersion}.`, toVersion);
  }
  checks.push(`${to} /predict: 200, ${rows.length} predictions from ${toVersion}`);

  // The live color's input signature: from itself, or as recorded when it was started.
  let liveFeatures: number | undefined;
  let fromVersion: string | null = backend.recordedVersion(from) ?? null;
  let liveSource = `live ${from}`;
  try {
    const answer = await backend.health(from);
    const liveHealth = parseJson(answer.body, HealthResponse);
    if (liveHealth) {
      liveFeatures = liveHealth.feature_count;
      fromVersion = liveHealth.version;
    }
  } catch {
    // it does not answer; fall back to what was recorded
  }
  if (liveFeatures === undefined) {
    liveFeatures = backend.recordedFeatureCount(from);
    liveSource = `live ${from} (as recorded; it does not answer now)`;
  }
  if (liveFeatures === undefined) {
    return refuse(`the live color ${from} does not answer /health and no input signature is recorded for it, so ${to}'s can not be compared. Start ${from} again, or check it with deploy:status.`, toVersion, fromVersion);
  }
  if (liveFeatures !== health.feature_count) {
    return refuse(
      `input signature differs: ${to} (${toVersion}) takes ${health.feature_count} feature(s) per row, ${liveSource} takes ${liveFeatures}; switching would break every client. Release a model with ${liveFeatures} feature(s) per row to ${to}.`,
      toVersion,
      fromVersion,
    );
  }
  checks.push(`input signature: ${liveFeatures} feature(s) per row, same as ${from}`);
  return { kind: 'preflight-passed', fromVersion, toVersion, checks };
}

async function verify(backend: SwitchBackend, clock: Clock, timing: SwitchTiming, to: Color, toVersion: string | null): Promise<SwitchEvent> {
  for (let check = 1; check <= timing.verifyChecks; check += 1) {
    const probe = await probeHealth(() => backend.routerHealth());
    const where = `through nginx, ${backend.routerUrl}/health (check ${check} of ${timing.verifyChecks})`;
    if (!probe.ok) return { kind: 'verify-failed', reason: `${where} ${probe.problem}` };
    const color = probe.answer.headers['x-color'] ?? probe.value.color;
    if (color !== to || probe.value.version !== toVersion) {
      return { kind: 'verify-failed', reason: `${where} answered ${color} ${probe.value.version}, expected ${to} ${toVersion}` };
    }
    if (check < timing.verifyChecks) await clock.sleep(timing.verifyIntervalMs);
  }
  return { kind: 'verified', checks: [`through nginx: ${backend.routerUrl}/health answers ${to} ${toVersion}, ${timing.verifyChecks} times in a row`] };
}

function parseJson<T>(text: string, schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } }): T | undefined {
  try {
    const result = schema.safeParse(JSON.parse(text));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

/** The specifics of a failure, without the catalogue's sentence when it is a DeployError. */
function reasonOf(error: unknown): string {
  if (error instanceof DeployError) return error.detail;
  return error instanceof Error ? error.message : String(error);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
