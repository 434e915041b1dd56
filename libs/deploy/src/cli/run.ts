import { isAbsolute, resolve } from 'node:path';
import type { Backend } from '../backends/backend';
import { type ComposeTarget, composeBackend, detectComposeCommand } from '../backends/compose/compose-backend';
import { DEFAULT_STATE_DIR, type StackLayout, stackLayout } from '../backends/local/layout';
import { loadSpec } from '../backends/local/stack/up-down';
import { localBackend } from '../backends/local/local-backend';
import { connectKubernetes } from '../backends/kubernetes/client-node-api';
import { configMapHistory } from '../backends/kubernetes/configmap-history';
import { kubernetesBackend } from '../backends/kubernetes/kubernetes-backend';
import { leaseLock } from '../backends/kubernetes/lease-lock';
import { type CommandContext, stateFolderStores } from '../commands/context';
import { downStack, releaseToIdle, stackStatus, upStack } from '../commands/stack/stack';
import { rollbackTraffic } from '../commands/switch/rollback';
import { type SwitchResult, switchFailure, switchTraffic } from '../commands/switch/switch';
import type { RuntimeDeps } from '../effects/deps';
import { TEST_PAUSE_VARIABLE, testPauseFrom } from '../effects/real-deps';
import { DeployError } from '../errors';
import {
  type DiffResult,
  type Gate,
  PREDICTION_DIFF_GATE,
  type PredictionDiffSettings,
  type SwitchTiming,
  gatesNamed,
  predictionDiffGate,
  predictionDiffSettings,
} from '../gates';
import { diffColors, keepDiff } from '../commands/shadow/diff';
import { captureLive, shadowOnAction, shadowTraffic } from '../commands/shadow/shadow';
import type { DeploymentSpec } from '../spec/deployment-spec';
import { formatDiff } from './diff-format';
import { formatCapture, formatShadow } from './shadow-format';
import type { BackendKind } from '../history/history';
import { type CanaryRequest, canaryCommand, canaryFailure } from '../commands/canary/canary';
import { type Command, type DiffFlags, USAGE, parseCommandLine } from './args';
import { canarySettings, processSignals } from './canary-settings';
import { serveDashboard } from './dashboard';
import { formatCanary, formatDown, formatRelease, formatStatus, formatSwitch, formatUp } from './format';

/** How long `capture` waits for its bodies unless --timeout says otherwise. */
const DEFAULT_CAPTURE_TIMEOUT_MS = 60_000;

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
  /** `dashboard` runs until this resolves (default: SIGINT or SIGTERM). */
  readonly stopped?: () => Promise<void>;
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
 * The deploy CLI: parses, chooses the backend once, runs one command, prints a short summary (or
 * one JSON document with --json), and returns the exit status. Never throws.
 */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  const parsed = parseCommandLine(argv, context.env);
  if (!parsed.ok) {
    const error = new DeployError('USAGE', `${parsed.message}.`);
    if (parsed.json) context.stdout(JSON.stringify({ ok: false, command: argv[0] ?? null, error: errorJson(error) }, null, 2));
    else context.stderr(`deploy: ${error.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const command = parsed.command.name === 'capture' ? { ...parsed.command, out: resolve(context.cwd, parsed.command.out) } : parsed.command;
  if (command.name === 'help') {
    context.stdout(command.json ? JSON.stringify({ ok: true, command: 'help', usage: USAGE }, null, 2) : USAGE);
    return EXIT.ok;
  }
  const progress = command.json ? context.stderr : context.stdout;
  const pause = testPauseFrom(context.env[TEST_PAUSE_VARIABLE], progress);
  const deps = { ...context.deps(progress), ...(pause ? { testPause: pause } : {}) };
  const stateDir =
    command.stateDir === undefined
      ? resolve(context.workspaceRoot, DEFAULT_STATE_DIR)
      : isAbsolute(command.stateDir)
        ? command.stateDir
        : resolve(context.cwd, command.stateDir);
  const serviceBuildDir = context.env['BLUEGREEN_SERVICE_BUILD'];
  const specFile = context.env['BLUEGREEN_SPEC'];
  const layout = stackLayout(context.workspaceRoot, stateDir, deps.tmpRoot, {
    ...(serviceBuildDir ? { serviceBuildDir } : {}),
    ...(specFile ? { specFile: resolve(context.cwd, specFile) } : {}),
  });

  if (command.name === 'dashboard') {
    try {
      await serveDashboard(command, {
        workspaceRoot: context.workspaceRoot,
        layout,
        stdout: context.stdout,
        deps: context.deps,
        contextFor: (line, lineDeps) => contextFor(line, lineDeps, layout, context),
        stopped: context.stopped ?? untilSignal,
      });
      return EXIT.ok;
    } catch (error) {
      const known = error instanceof DeployError ? error : unexpected(error);
      if (command.json)
        context.stdout(JSON.stringify({ ok: false, command: command.name, result: null, error: errorJson(known) }, null, 2));
      else context.stderr(`deploy dashboard: ${known.message}\n${known.hint}`);
      return EXIT.failed;
    }
  }

  let outcome: Outcome;
  try {
    const commandContext = await contextFor(command, deps, layout, context);
    outcome =
      command.name === 'canary' || command.name === 'promote'
        ? await executeCanary(command, commandContext, layout)
        : await execute(command, commandContext, () => commandSettings(command, layout, context));
  } catch (error) {
    const known = error instanceof DeployError ? error : unexpected(error);
    outcome = { ok: false, lines: [], result: known.data ?? null, error: known };
  }
  if (command.json) {
    context.stdout(
      JSON.stringify(
        { ok: outcome.ok, command: command.name, result: outcome.result, ...(outcome.error ? { error: errorJson(outcome.error) } : {}) },
        null,
        2,
      ),
    );
  } else {
    if (outcome.lines.length > 0) (outcome.ok || outcome.report ? context.stdout : context.stderr)(outcome.lines.join('\n'));
    if (outcome.error) context.stderr(`deploy ${command.name}: ${outcome.error.message}\n${outcome.error.hint}`);
  }
  return outcome.ok ? EXIT.ok : EXIT.failed;
}

async function executeCanary(
  command: Extract<Command, { name: 'canary' | 'promote' }>,
  context: CommandContext,
  layout: StackLayout,
): Promise<Outcome> {
  const request: CanaryRequest =
    command.name === 'promote'
      ? { kind: 'promote' }
      : command.mode === 'start'
        ? {
            kind: 'start',
            keep: command.keep,
            ...(command.color ? { color: command.color } : {}),
            ...(command.expectVersion ? { expectVersion: command.expectVersion } : {}),
          }
        : command.mode === 'resume'
          ? { kind: 'resume', keep: command.keep }
          : { kind: 'abort' };
  const settings = canarySettings(
    loadSpec(layout),
    layout.workspaceRoot,
    command.name === 'canary'
      ? {
          ...(command.steps ? { steps: command.steps } : {}),
          ...(command.intervalSeconds !== undefined ? { intervalSeconds: command.intervalSeconds } : {}),
        }
      : {},
  );
  const signals = processSignals(context.progress);
  try {
    const result = await canaryCommand(context, request, settings, signals);
    const error = canaryFailure(result);
    return { ok: error === undefined, lines: formatCanary(result), result, ...(error ? { error } : {}) };
  } finally {
    signals.dispose();
  }
}

/** What shadow and diff take from the spec, with the flags applied. */
interface CommandSettings {
  readonly spec: DeploymentSpec;
  readonly diff: PredictionDiffSettings;
}

function commandSettings(command: Exclude<Command, { name: 'help' }>, layout: StackLayout, context: CliContext): CommandSettings {
  const spec = loadSpec(layout);
  const flags = command.name === 'diff' || command.name === 'switch' ? command.diff : undefined;
  return { spec, diff: diffSettingsWith(spec, flags, layout, context) };
}

/** The spec's predictionDiff section with the flags over it; a replay file given as a flag is relative to the current folder. */
function diffSettingsWith(
  spec: DeploymentSpec,
  flags: DiffFlags | undefined,
  layout: StackLayout,
  context: CliContext,
): PredictionDiffSettings {
  const base = predictionDiffSettings(spec.predictionDiff, layout.workspaceRoot);
  if (!flags) return base;
  const { tolerance } = base.criteria;
  return {
    criteria: {
      tolerance: { absolute: flags.maxDiff ?? tolerance.absolute, relative: flags.relTolerance ?? tolerance.relative },
      minAgreement: flags.minAgreement ?? base.criteria.minAgreement,
      minPairs: flags.minPairs ?? base.criteria.minPairs,
    },
    ...(flags.replay ? { replayFile: resolve(context.cwd, flags.replay) } : base.replayFile ? { replayFile: base.replayFile } : {}),
  };
}

async function execute(
  command: Exclude<Command, { name: 'help' | 'dashboard' | 'canary' | 'promote' }>,
  context: CommandContext,
  settings: () => CommandSettings,
): Promise<Outcome> {
  switch (command.name) {
    case 'shadow': {
      const action =
        command.action === 'on'
          ? shadowOnAction(settings().spec, {
              ...(command.percent !== undefined ? { percent: command.percent } : {}),
              ...(command.queueSize !== undefined ? { queueSize: command.queueSize } : {}),
            })
          : { kind: command.action };
      const result = await shadowTraffic(context, action);
      return { ok: true, lines: formatShadow(result), result };
    }
    case 'capture': {
      const { spec } = settings();
      const result = await captureLive(context, {
        n: command.n,
        file: command.out,
        timeoutMs: command.timeoutMs ?? DEFAULT_CAPTURE_TIMEOUT_MS,
        queueSize: spec.shadow.queueSize,
      });
      return { ok: true, lines: formatCapture(result), result };
    }
    case 'diff': {
      const { diff } = settings();
      const { maxDiff, minAgreement, minPairs } = command.diff;
      const judged = maxDiff !== undefined || minAgreement !== undefined || minPairs !== undefined;
      const result = await diffColors(context, {
        tolerance: diff.criteria.tolerance,
        ...(judged ? { criteria: diff.criteria } : {}),
        ...(command.diff.replay && diff.replayFile ? { replayFile: diff.replayFile } : {}),
      });
      const ok = result.problems.length === 0;
      return {
        ok,
        lines: formatDiff(result),
        result,
        report: true,
        ...(ok ? {} : { error: new DeployError('DIFF_FAILED', `${result.problems.join('; ')}.`) }),
      };
    }
    case 'up': {
      const result = await upStack(context, command);
      return { ok: true, lines: formatUp(result), result };
    }
    case 'down': {
      const result = await downStack(context, { reset: command.reset, ...(command.timeoutMs ? { timeoutMs: command.timeoutMs } : {}) });
      return { ok: true, lines: formatDown(result), result };
    }
    case 'status': {
      const result = await stackStatus(context);
      return { ok: result.healthy, lines: formatStatus(result), result, report: true };
    }
    case 'switch': {
      const result = await switchTraffic(context, {
        ...(command.color ? { color: command.color } : {}),
        ...(command.expectVersion ? { expectVersion: command.expectVersion } : {}),
      });
      return switchOutcome(result, 'switch');
    }
    case 'rollback':
      return switchOutcome(await rollbackTraffic(context), 'rollback');
    case 'release': {
      const result = await releaseToIdle(context, {
        ...(command.model ? { model: command.model } : {}),
        ...(command.image ? { image: command.image } : {}),
        ...(command.color ? { color: command.color } : {}),
        ...(command.timeoutMs ? { timeoutMs: command.timeoutMs } : {}),
        switch: command.switch,
        ...(command.expectVersion ? { expectVersion: command.expectVersion } : {}),
      });
      return { ok: true, lines: [...formatRelease(result), ...(result.switch ? formatSwitch(result.switch, 'switch') : [])], result };
    }
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

/** The one place a backend is chosen; a new backend is one more case here. */
async function contextFor(
  command: Exclude<Command, { name: 'help' }>,
  deps: RuntimeDeps,
  layout: StackLayout,
  context: CliContext,
): Promise<CommandContext> {
  const kind: BackendKind = command.backend;
  // The spec is read only where it is needed, so `down` and `status` of a local stack work with a
  // broken spec. Every command that can move a route gets the gates (release: with --switch).
  const moves =
    command.name === 'switch' ||
    command.name === 'rollback' ||
    command.name === 'release' ||
    command.name === 'canary' ||
    command.name === 'promote';
  const spec = moves || kind !== 'local' ? loadSpec(layout) : undefined;
  // Local and Compose keep the lock, the history and the latest diff report in the state folder; a cluster keeps the first two in itself.
  let stores: Pick<CommandContext, 'lock' | 'history' | 'canaryRun' | 'lastDiff'> = stateFolderStores(layout);
  let preflight: Gate[] = [];
  try {
    if (moves && spec) {
      const diffFlags = command.name === 'switch' || command.name === 'canary' ? command.diff : undefined;
      // The gate's report is kept as the latest one, for the dashboard.
      const onReport = (result: DiffResult) =>
        keepDiff(
          {
            ...(stores.lastDiff ? { lastDiff: stores.lastDiff } : {}),
            clock: deps.clock,
            userName: deps.userName,
            progress: deps.progress,
          },
          `prediction-diff gate of ${command.name}`,
          result,
        );
      const diff = { ...diffSettingsWith(spec, diffFlags, layout, context), onReport };
      preflight = gatesNamed(spec.gates.preflight, { predictionDiff: diff });
      // A diff flag on switch or canary asks for the gate even when the spec does not name it.
      if (diffFlags && !spec.gates.preflight.includes(PREDICTION_DIFF_GATE)) preflight.push(predictionDiffGate(diff));
    }
  } catch (error) {
    throw new DeployError('SPEC_INVALID', `${(error as Error).message}.`);
  }
  let backend: Backend;
  switch (kind) {
    case 'local':
      backend = localBackend(deps, layout);
      break;
    case 'compose': {
      const target: ComposeTarget = {
        spec: spec ?? loadSpec(layout),
        run: deps.run,
        http: deps.http,
        workspaceRoot: layout.workspaceRoot,
        composeCommand: await detectComposeCommand(deps.run, context.env['BLUEGREEN_COMPOSE_COMMAND']),
      };
      backend = composeBackend(target, { clock: deps.clock, progress: deps.progress });
      break;
    }
    case 'kubernetes': {
      const namespace = command.namespace ?? (spec ?? loadSpec(layout)).kubernetes.namespace;
      const api = await connectKubernetes({
        namespace,
        env: context.env,
        ...(command.kubeContext ? { context: command.kubeContext } : {}),
      });
      backend = kubernetesBackend(api, { clock: deps.clock, progress: deps.progress });
      stores = { lock: leaseLock(api, deps.clock, deps.progress), history: configMapHistory(api) };
      break;
    }
    default: {
      const unreachable: never = kind;
      return unreachable;
    }
  }
  return {
    backend,
    ...stores,
    clock: deps.clock,
    userName: deps.userName,
    progress: deps.progress,
    preflight,
    ...(spec ? { replicaQuorum: spec.replicas.mustPass } : {}),
    ...(context.switchTiming ? { timing: context.switchTiming } : {}),
    ...(deps.testPause ? { testPause: deps.testPause } : {}),
  };
}

function switchOutcome(result: SwitchResult, command: 'switch' | 'rollback'): Outcome {
  const lines = formatSwitch(result, command);
  if (result.kind === 'noop' || result.kind === 'switched') return { ok: true, lines, result };
  return { ok: false, lines, result, error: switchFailure(result) };
}

function untilSignal(): Promise<void> {
  return new Promise((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function unexpected(error: unknown): DeployError {
  return new DeployError('UNEXPECTED', error instanceof Error ? (error.stack ?? error.message) : String(error));
}

function errorJson(error: DeployError) {
  return { code: error.code, message: error.message, hint: error.hint };
}
