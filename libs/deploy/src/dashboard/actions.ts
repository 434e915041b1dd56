import { ActionRequests, type ActionOutcome, type Color } from '@mlbg/contract';
import { type CanaryRequest, type CanarySignals, canaryCommand, canaryFailure } from '../commands/canary/canary';
import type { CommandContext } from '../commands/context';
import { releaseToIdle } from '../commands/stack/stack';
import { rollbackTraffic } from '../commands/switch/rollback';
import { shadowOnAction, shadowTraffic } from '../commands/shadow/shadow';
import type { DeploymentSpec } from '../spec/deployment-spec';
import { type SwitchResult, switchFailure, switchTraffic } from '../commands/switch/switch';
import type { CanaryStart } from './canary-launch';

/** What an action may need besides its context: the deployment spec (read when asked, as the CLI reads it). */
export interface ActionEnv {
  readonly spec: () => DeploymentSpec;
  /**
   * Starts `deploy canary` as its own process (canary-launch.ts): a canary runs for minutes
   * holding the lock, and must outlive the request and the dashboard.
   */
  readonly startCanary: (start: CanaryStart, context: CommandContext) => Promise<ActionOutcome>;
}

/**
 * The page's buttons, each the same command function the CLI runs (same lock, gates, history).
 * A new command is one more entry here and one more button in the page. The canary's start is
 * the CLI's own `deploy canary` process (it outlives the request); abort and promote run here.
 */
export const ACTIONS = {
  switch: {
    body: ActionRequests.switch,
    run: (context: CommandContext, body: { color?: Color | undefined; expectVersion?: string | undefined }) =>
      switchTraffic(context, dropUndefined(body)).then(moveOutcome),
  },
  rollback: {
    body: ActionRequests.rollback,
    run: (context: CommandContext) => rollbackTraffic(context).then(moveOutcome),
  },
  release: {
    body: ActionRequests.release,
    run: async (context: CommandContext, body: { model: string; color?: Color | undefined; switch: boolean }): Promise<ActionOutcome> => {
      const result = await releaseToIdle(context, dropUndefined(body));
      if (result.switch) {
        const moved = moveOutcome(result.switch);
        return { ...moved, result };
      }
      return { ok: true, result };
    },
  },
  shadow: {
    body: ActionRequests.shadow,
    run: async (context: CommandContext, body: { on: boolean; percent?: number | undefined }, env: ActionEnv): Promise<ActionOutcome> => {
      const action = body.on
        ? shadowOnAction(env.spec(), body.percent === undefined ? {} : { percent: body.percent })
        : { kind: 'off' as const };
      return { ok: true, result: await shadowTraffic(context, action) };
    },
  },
  canary: {
    body: ActionRequests.canary,
    run: (context: CommandContext, body: CanaryStart, env: ActionEnv) => env.startCanary(body, context),
  },
  'canary-abort': {
    body: ActionRequests['canary-abort'],
    run: (context: CommandContext, _body: unknown, env: ActionEnv) => finishCanary(context, { kind: 'abort' }, env),
  },
  promote: {
    body: ActionRequests.promote,
    run: (context: CommandContext, _body: unknown, env: ActionEnv) => finishCanary(context, { kind: 'promote' }, env),
  },
} as const;

/** A canary in this process never gets a signal: abort and promote ask the running one (another process) by signal. */
const NO_SIGNALS: CanarySignals = { stopRequested: () => false, promoteRequested: () => false };

/** `deploy canary --abort` and `deploy promote`, in this process as the CLI runs them: they signal the running canary and wait for its handover. */
async function finishCanary(
  context: CommandContext,
  request: Extract<CanaryRequest, { kind: 'abort' | 'promote' }>,
  env: ActionEnv,
): Promise<ActionOutcome> {
  const result = await canaryCommand(context, request, { spec: env.spec().canary }, NO_SIGNALS);
  const error = canaryFailure(result);
  return { ok: error === undefined, result, ...(error ? { error: { code: error.code, message: error.message, hint: error.hint } } : {}) };
}

export type ActionName = keyof typeof ACTIONS;
export const ACTION_NAMES = Object.keys(ACTIONS) as ActionName[];

/** What the page gets back: the CLI's --json shape (ok, result, error with code, message and hint); the contract's. */
export type { ActionOutcome } from '@mlbg/contract';

/** A switch or rollback that did not move traffic is a failure that says why (the gate's message). */
function moveOutcome(result: SwitchResult): ActionOutcome {
  if (result.kind === 'noop' || result.kind === 'switched') return { ok: true, result };
  const error = switchFailure(result);
  return { ok: false, result, error: { code: error.code, message: error.message, hint: error.hint } };
}

function dropUndefined<T extends object>(values: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
