import type { Color, SwitchResult } from '@mlbg/contract';
import { DeployError, type DeployErrorCode, isNotWritable } from '../../errors';
import { DEFAULT_SWITCH_TIMING, type ExpectedVersion, type GateFacts, runPreflight } from '../../gates';
import { planSwitch } from './switch-plan';
import { verifyRoute } from './verify-route';
import { settleRouteMove } from './route-settle';
import { type Routes, mainTarget, routesWithLive } from '../../routing/routes';
import { type CommandContext, historyStamp, reasonOf } from '../context';
import { settleInterruptedSwitch } from './reconcile';
import { type SwitchEvent, type SwitchOutcome, type SwitchPhase, nextPhase, startSwitch } from './switch-phase';

/** What a switch or rollback command ended with. `noop` = the color was already live. */
export type { SwitchResult } from '@mlbg/contract';

/**
 * `deploy:switch`: under the stack's lock, moves live traffic to `color` (undefined = toggle) if
 * and only if every preflight gate passes, verifies through nginx (moving back if that fails),
 * and appends the attempt, with its gate results, to the history.
 * @throws DeployError LOCKED when another deploy command runs; whatever the backend's readRoutes throws
 */
export function switchTraffic(context: CommandContext, request: { color?: Color; expectVersion?: string }): Promise<SwitchResult> {
  const command = `switch${request.color ? ` --color=${request.color}` : ''}`;
  return context.lock.hold({ command, user: context.userName }, async () => {
    await settleInterruptedSwitch(context);
    const routes = await context.backend.readRoutes();
    const live = mainTarget(routes.live);
    const plan = planSwitch(live, request.color);
    if (plan.kind === 'noop') return { kind: 'noop', color: live, version: context.backend.colors.recorded(live)?.version ?? null };
    const expect = request.expectVersion ? { version: request.expectVersion, why: 'required by --expect-version' } : undefined;
    return moveAndRecord(context, 'switch', routes, plan.to, expect);
  });
}

/**
 * One recorded move of the live route from its color to `to` (the caller holds the lock): the
 * gates, the move, the verification, and one history line whatever the outcome.
 */
export async function moveAndRecord(
  context: CommandContext,
  command: 'switch' | 'rollback',
  before: Routes,
  to: Color,
  expect: ExpectedVersion | undefined,
): Promise<SwitchOutcome & { routes: Routes }> {
  const started = context.clock.now();
  const from = mainTarget(before.live);
  const outcome = await runSwitch(context, before, to, expect);
  const routes = outcome.kind === 'switched' || outcome.kind === 'broken' ? routesWithLive(to) : before;
  await appendOutcome(context, outcome, {
    ...historyStamp(context, started),
    command,
    from,
    to,
    fromVersion: outcome.fromVersion,
    toVersion: outcome.toVersion,
    outcome: outcome.kind,
    gates: [...outcome.gates],
    routes,
    ...(outcome.kind === 'switched'
      ? {}
      : { reason: outcome.kind === 'broken' ? `${outcome.reason}; switching back failed: ${outcome.revertError}` : outcome.reason }),
  });
  return { ...outcome, routes };
}

/** Drives the phases of one switch to its outcome (no lock, no history: see {@link switchTraffic}). */
export async function runSwitch(context: CommandContext, before: Routes, to: Color, expect?: ExpectedVersion): Promise<SwitchOutcome> {
  const { backend, progress } = context;
  const timing = context.timing ?? DEFAULT_SWITCH_TIMING;
  let phase: SwitchPhase = startSwitch(mainTarget(before.live), to);
  let flippedAt = 0;
  while (phase.kind !== 'done') {
    phase = nextPhase(phase, await perform(phase));
  }
  return phase.outcome;

  async function perform(current: Exclude<SwitchPhase, { kind: 'done' }>): Promise<SwitchEvent> {
    switch (current.kind) {
      case 'preflight': {
        // No gate configured would be a switch nobody checked: that is a refusal, never a pass.
        if (context.preflight.length === 0)
          return {
            kind: 'preflight-failed',
            reason: 'no preflight gate is configured, so nothing checked the target; a switch is never made unchecked.',
            fromVersion: null,
            toVersion: null,
            gates: [],
          };
        progress(`preflight: checking ${current.to} before it takes traffic from ${current.from}`);
        const facts: GateFacts = {};
        const run = await runPreflight(
          context.preflight,
          {
            from: current.from,
            to: current.to,
            colors: backend.colors,
            clock: context.clock,
            timing,
            facts,
            ...(expect ? { expectedVersion: expect } : {}),
          },
          context.replicaQuorum,
        );
        const toVersion = facts.target?.version ?? null;
        const fromVersion = facts.live?.version ?? backend.colors.recorded(current.from)?.version ?? null;
        if (run.failure) return { kind: 'preflight-failed', reason: run.failure.observed, fromVersion, toVersion, gates: run.results };
        // Recorded before the route moves, so a command killed from here on is settled by the next one.
        try {
          await context.history.append({
            ...historyStamp(context, context.clock.now()),
            command: 'switch-intent',
            outcome: 'intended',
            from: current.from,
            to: current.to,
            routes: routesWithLive(current.to),
          });
        } catch (error) {
          return {
            kind: 'preflight-failed',
            reason: `the switch could not be recorded in ${context.history.where} before moving the route (${reasonOf(error)}), so nothing was moved`,
            fromVersion,
            toVersion,
            gates: run.results,
            ...(isNotWritable(error) ? { stateNotWritable: true } : {}),
          };
        }
        await context.testPause?.('before-flip');
        return { kind: 'preflight-passed', fromVersion, toVersion, gates: run.results };
      }
      case 'flip':
        try {
          await backend.setRoutes(routesWithLive(current.to));
          flippedAt = context.clock.now();
          progress(`moved the live route to ${current.to}; verifying through nginx`);
          return { kind: 'flipped' };
        } catch (error) {
          // A state folder that can not record the move: the backend moved nothing, so there is nothing to move back.
          if (error instanceof DeployError && error.code === 'STATE_NOT_WRITABLE') return { kind: 'flip-refused', reason: reasonOf(error) };
          return { kind: 'flip-failed', reason: reasonOf(error) };
        }
      case 'verify': {
        const result = await verifyRoute(context, 'live', current.to, current.toVersion);
        if (!result.ok) return { kind: 'verify-failed', reason: result.observed, gates: [result] };
        // Not a condition of the switch (the previous color may be down): this retires the preview
        // route's kept connections, so /preview/ answers as the idle color from now on.
        const preview = await verifyRoute(context, 'preview', current.from, current.fromVersion);
        if (!preview.ok) progress(`note: the preview route does not serve ${current.from} yet (${preview.observed})`);
        await settleRouteMove(context, flippedAt);
        return { kind: 'verified', gates: [result] };
      }
      case 'revert':
        progress(`verification failed (${current.failure}); moving the live route back to ${current.from}`);
        try {
          await backend.setRoutes(before);
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

/** The catalogue code of a switch that did not happen: a gate refused, the verification moved it back, or both failed. */
/** The error a switch or rollback that did not move traffic ends with, for the CLI and the dashboard alike. */
export function switchFailure(outcome: Exclude<SwitchOutcome, { kind: 'switched' }>): DeployError {
  return new DeployError(
    switchFailureCode(outcome),
    `${outcome.from} -> ${outcome.to}: ${outcome.reason}${outcome.kind === 'broken' ? ` Switching back failed: ${outcome.revertError}` : ''}`,
  );
}

export function switchFailureCode(outcome: Exclude<SwitchOutcome, { kind: 'switched' }>): DeployErrorCode {
  switch (outcome.kind) {
    case 'refused':
      return outcome.stateNotWritable ? 'STATE_NOT_WRITABLE' : 'PREFLIGHT_FAILED';
    case 'reverted':
      return 'VERIFY_FAILED';
    case 'broken':
      return 'REVERT_FAILED';
    default: {
      const unreachable: never = outcome;
      return unreachable;
    }
  }
}

/**
 * The history line of a switch. When it can not be written (a full or read-only state folder)
 * the command says what did change: a refused switch changed nothing; a moved route stays moved,
 * and the next command settles the history from the recorded intent.
 */
async function appendOutcome(
  context: CommandContext,
  outcome: SwitchOutcome,
  entry: Parameters<CommandContext['history']['append']>[0],
): Promise<void> {
  try {
    await context.history.append(entry);
  } catch (error) {
    const what =
      outcome.kind === 'refused'
        ? `${outcome.reason.replace(/\.$/, '')}. The switch was refused and nothing was moved`
        : `The live route points at ${outcome.kind === 'reverted' ? outcome.from : outcome.to} now`;
    throw new DeployError(
      'STATE_NOT_WRITABLE',
      `${context.history.where}: ${reasonOf(error)}. ${what}; its outcome (${outcome.kind}) is not in the history (the next switch, rollback or release records it from the route nginx follows).`,
    );
  }
}
