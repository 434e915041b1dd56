import type { ActionOutcome } from '@mlbg/contract';
import type { z } from 'zod';
import type { CanarySignals } from '../commands/canary/canary';
import type { CommandDescriptor, PageAction, RunEnv } from '../commands/command';
import type { CommandContext } from '../commands/context';
import { COMMANDS, type CommandName, type RegisteredCommand } from '../commands/registry';
import type { DeployError } from '../errors';
import type { DeploymentSpec } from '../spec/deployment-spec';
import type { CanaryStart } from './canary-launch';

/** What an action may need besides its context: the deployment spec (read when asked, as the CLI reads it). */
export interface ActionEnv {
  readonly spec: () => DeploymentSpec;
  /** Where the spec's relative paths (the canary's probe samples) start. */
  readonly workspaceRoot: string;
  /**
   * Starts `deploy canary` as its own process (canary-launch.ts): a canary runs for minutes
   * holding the lock, and must outlive the request and the dashboard. The one action that
   * runs as its own process (`ownProcess` in its descriptor).
   */
  readonly startCanary: (start: CanaryStart, context: CommandContext) => Promise<ActionOutcome>;
}

/** What the page gets back: the CLI's --json shape (ok, result, error with code, message and hint); the contract's. */
export type { ActionOutcome } from '@mlbg/contract';

/** One button of the page: the command it runs, the body it takes, and how it runs. */
export interface Action {
  readonly command: CommandName;
  readonly body: z.ZodType;
  run(context: CommandContext, body: unknown, env: ActionEnv): Promise<ActionOutcome>;
}

type ActionNameOf<C> = C extends { readonly actions?: infer Actions } ? keyof NonNullable<Actions> & string : never;
/** The page's actions: every `actions` entry of the registry's descriptors. */
export type ActionName = ActionNameOf<RegisteredCommand>;

/** A canary in this process never gets a signal: abort and promote ask the running one (another process) by signal. */
const NO_SIGNALS: CanarySignals = { stopRequested: () => false, promoteRequested: () => false };

function actionOf(command: CommandDescriptor, action: PageAction): Action {
  return {
    command: command.name as CommandName,
    body: action.body,
    run: async (context, body, env) => {
      // The body was parsed by this action's own schema (server.ts), so it is what its functions take.
      if (action.ownProcess) return env.startCanary(body as CanaryStart, context);
      const runEnv: RunEnv = { spec: env.spec, workspaceRoot: env.workspaceRoot, cwd: env.workspaceRoot, signals: () => NO_SIGNALS };
      const result = await command.run(context, action.options(body), runEnv);
      const verdict = command.verdict?.(result) ?? { ok: true };
      return { ok: verdict.ok, result, ...(!verdict.ok && verdict.error ? { error: errorJson(verdict.error) } : {}) };
    },
  };
}

/**
 * The page's buttons, from the registry: each runs its command's own `run` and `verdict`, as the
 * CLI does (same lock, gates, history and errors). A new button is one more `actions` entry in a
 * descriptor (and the button in the page).
 */
export const ACTIONS = Object.fromEntries(
  (COMMANDS as readonly CommandDescriptor[]).flatMap((command) =>
    Object.entries(command.actions ?? {}).map(([name, action]) => [name, actionOf(command, action)] as const),
  ),
) as Record<ActionName, Action>;

export const ACTION_NAMES = Object.keys(ACTIONS) as ActionName[];

function errorJson(error: DeployError): NonNullable<ActionOutcome['error']> {
  return { code: error.code, message: error.message, hint: error.hint };
}
