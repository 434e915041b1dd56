import { isAbsolute, resolve } from 'node:path';
import { type ComposeTarget, composeBackend, composeStatus, detectComposeCommand } from '../backends/compose/compose-backend';
import type { RuntimeDeps } from '../effects/deps';
import { DeployError, type DeployErrorCode } from '../errors';
import type { DeployTarget } from '../effects/history';
import { DEFAULT_STATE_DIR, type StackLayout, stackLayout } from '../backends/local/layout';
import { localBackend, requireRunningStack } from '../backends/local/local-backend';
import { releaseModel } from '../backends/local/release';
import { loadSpec, stackDown, stackUp } from '../backends/local/lifecycle';
import { localStatus } from '../backends/local/status';
import { type SwitchBackend, type SwitchResult, type SwitchTiming, rollbackTraffic, switchTraffic } from '../commands/switch';
import { type Command, USAGE, parseCommandLine } from './args';
import { formatComposeStatus, formatDown, formatLocalStatus, formatRelease, formatSwitch, formatUp } from './format';

/** Exit statuses: 0 done (or nothing to do), 1 failed, 2 bad usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly workspaceRoot: string;
  /** Relative --state-dir values are resolved against it. */
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The runtime's dependencies, given where progress lines go. */
  readonly deps: (progress: (line: string) => void) => RuntimeDeps;
  readonly switchTiming?: SwitchTiming;
}

interface Outcome {
  readonly ok: boolean;
  readonly lines: readonly string[];
  readonly result: unknown;
  readonly error?: DeployError;
  /** A report (status) goes to stdout even when it reports a problem. */
  readonly report?: boolean;
}

/**
 * The deploy CLI: parses, runs one command, prints a short summary (or one JSON document with
 * --json), and returns the exit status. Never throws.
 */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  const parsed = parseCommandLine(argv, context.env);
  if (!parsed.ok) {
    const error = new DeployError('USAGE', `${parsed.message}.`);
    if (parsed.json) context.stdout(JSON.stringify({ ok: false, command: argv[0] ?? null, error: errorJson(error) }, null, 2));
    else context.stderr(`deploy: ${error.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { command } = parsed;
  if (command.name === 'help') {
    context.stdout(command.json ? JSON.stringify({ ok: true, command: 'help', usage: USAGE }, null, 2) : USAGE);
    return EXIT.ok;
  }
  const deps = context.deps(command.json ? context.stderr : context.stdout);
  const stateDir = command.stateDir === undefined ? resolve(context.workspaceRoot, DEFAULT_STATE_DIR) : isAbsolute(command.stateDir) ? command.stateDir : resolve(context.cwd, command.stateDir);
  const layout = stackLayout(context.workspaceRoot, stateDir, deps.tmpRoot);

  let outcome: Outcome;
  try {
    outcome = await execute(command, deps, layout, context);
  } catch (error) {
    const known = error instanceof DeployError ? error : unexpected(error);
    outcome = { ok: false, lines: [], result: known.data ?? null, error: known };
  }
  if (command.json) {
    context.stdout(JSON.stringify({ ok: outcome.ok, command: command.name, result: outcome.result, ...(outcome.error ? { error: errorJson(outcome.error) } : {}) }, null, 2));
  } else {
    if (outcome.lines.length > 0) (outcome.ok || outcome.report ? context.stdout : context.stderr)(outcome.lines.join('\n'));
    if (outcome.error) context.stderr(`deploy ${command.name}: ${outcome.error.message}\n${outcome.error.hint}`);
  }
  return outcome.ok ? EXIT.ok : EXIT.failed;
}

async function execute(command: Exclude<Command, { name: 'help' }>, deps: RuntimeDeps, layout: StackLayout, context: CliContext): Promise<Outcome> {
  switch (command.name) {
    case 'up': {
      const result = await stackUp(deps, layout, command);
      return { ok: true, lines: formatUp(result), result };
    }
    case 'down': {
      const result = await stackDown(deps, layout, { reset: command.reset, ...(command.timeoutMs ? { timeoutMs: command.timeoutMs } : {}) });
      return { ok: true, lines: formatDown(result), result };
    }
    case 'status': {
      if (command.target === 'compose') {
        const result = await composeStatus(await composeTarget(deps, layout, context), layout);
        return { ok: result.healthy, lines: formatComposeStatus(result), result, report: true };
      }
      const result = await localStatus(deps, layout);
      return { ok: result.healthy, lines: formatLocalStatus(result), result, report: true };
    }
    case 'switch': {
      const backend = await switchBackend(command.target, deps, layout, context);
      const result = await switchTraffic(backend, switchContext(deps, layout, context), {
        ...(command.color ? { color: command.color } : {}),
        ...(command.expectVersion ? { expectVersion: command.expectVersion } : {}),
      });
      return switchOutcome(result, 'switch');
    }
    case 'rollback': {
      const backend = await switchBackend(command.target, deps, layout, context);
      return switchOutcome(await rollbackTraffic(backend, switchContext(deps, layout, context)), 'rollback');
    }
    case 'release': {
      const result = await releaseModel(deps, layout, {
        model: command.model,
        ...(command.color ? { color: command.color } : {}),
        ...(command.timeoutMs ? { timeoutMs: command.timeoutMs } : {}),
      });
      return { ok: true, lines: formatRelease(result), result };
    }
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

function switchContext(deps: RuntimeDeps, layout: StackLayout, context: CliContext) {
  return { layout, clock: deps.clock, userName: deps.userName, progress: deps.progress, ...(context.switchTiming ? { timing: context.switchTiming } : {}) };
}

async function switchBackend(target: DeployTarget, deps: RuntimeDeps, layout: StackLayout, context: CliContext): Promise<SwitchBackend> {
  if (target === 'compose') return composeBackend(await composeTarget(deps, layout, context));
  return localBackend(deps, layout, requireRunningStack(deps, layout));
}

async function composeTarget(deps: RuntimeDeps, layout: StackLayout, context: CliContext): Promise<ComposeTarget> {
  return {
    spec: loadSpec(layout),
    run: deps.run,
    http: deps.http,
    workspaceRoot: layout.workspaceRoot,
    composeCommand: await detectComposeCommand(deps.run, context.env['BLUEGREEN_COMPOSE_COMMAND']),
  };
}

const FAILED_SWITCH: Record<'refused' | 'reverted' | 'broken', DeployErrorCode> = { refused: 'PREFLIGHT_FAILED', reverted: 'VERIFY_FAILED', broken: 'REVERT_FAILED' };

function switchOutcome(result: SwitchResult, command: 'switch' | 'rollback'): Outcome {
  const lines = formatSwitch(result, command);
  if (result.kind === 'noop' || result.kind === 'switched') return { ok: true, lines, result };
  const error = new DeployError(FAILED_SWITCH[result.kind], `${result.from} -> ${result.to}: ${result.reason}${result.kind === 'broken' ? ` Switching back failed: ${result.revertError}` : ''}`);
  return { ok: false, lines, result, error };
}

function unexpected(error: unknown): DeployError {
  return new DeployError('UNEXPECTED', error instanceof Error ? (error.stack ?? error.message) : String(error));
}

function errorJson(error: DeployError) {
  return { code: error.code, message: error.message, hint: error.hint };
}
