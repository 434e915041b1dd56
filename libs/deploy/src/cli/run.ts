import type { CliError } from '@mlbg/contract';
import { isAbsolute, resolve } from 'node:path';
import type { Backend } from '../backends/backend';
import { type ComposeTarget, composeBackend, detectEngineCommands } from '../backends/compose/compose-backend';
import { DEFAULT_STATE_DIR, type StackLayout, stackLayout } from '../backends/local/layout';
import { loadSpec } from '../backends/local/stack/up-down';
import { localBackend } from '../backends/local/local-backend';
import { connectKubernetes } from '../backends/kubernetes/client-node-api';
import { configMapHistory } from '../backends/kubernetes/configmap-history';
import { kubernetesBackend } from '../backends/kubernetes/kubernetes-backend';
import { changesUnderLock } from '../backends/changes-under-lock';
import { leaseLock, writesUnderLease } from '../backends/kubernetes/lease-lock';
import { prometheusClient, prometheusTransport } from '../backends/kubernetes/prometheus';
import type { CommandDescriptor, RunEnv } from '../commands/command';
import { type CommandContext, stateFolderStores } from '../commands/context';
import type { DiffFlags } from '../commands/flags';
import { diffSettingsWith } from '../commands/shadow/diff-settings';
import type { RuntimeDeps } from '../effects/deps';
import { TEST_PAUSE_VARIABLE, testPauseFrom } from '../effects/real-deps';
import { DeployError } from '../errors';
import { type DiffResult, type Gate, PREDICTION_DIFF_GATE, type SwitchTiming, gatesNamed, predictionDiffGate } from '../gates';
import { keepDiff } from '../commands/shadow/diff';
import type { BackendKind } from '../history/history';
import { type Common, type Command, readCommandLine, usage } from './args';
import { CLI_REGISTRY, type CliRegistry, commandLines } from './commands';
import { processSignals } from './process-signals';
import { serveDashboard } from './dashboard';

/** Exit statuses: 0 done (or nothing to do), 1 failed, 2 bad usage (and a command's own, e.g. judge's 3 inconclusive). */
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
  /** The commands it knows (default: the registry's, with cli/format.ts's formatters). */
  readonly registry?: CliRegistry;
}

interface Outcome {
  readonly ok: boolean;
  readonly lines: readonly string[];
  readonly result: unknown;
  readonly error?: DeployError;
  /** A report (status) goes to stdout even when it reports a problem. */
  readonly report?: boolean;
  /** A failure's own exit status (judge: 3 inconclusive), instead of 1. */
  readonly exitCode?: number;
}

/**
 * The deploy CLI: parses, chooses the backend once, runs one command, prints a short summary (or
 * one JSON document with --json), and returns the exit status. Never throws.
 */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  const registry = context.registry ?? CLI_REGISTRY;
  const lines = commandLines(registry);
  const parsed = readCommandLine(argv, context.env, lines);
  if (!parsed.ok) {
    const error = new DeployError('USAGE', `${parsed.message}.`);
    if (parsed.json) context.stdout(JSON.stringify({ ok: false, command: argv[0] ?? null, error: errorJson(error) }, null, 2));
    else context.stderr(`deploy: ${error.message}\n\n${usage(lines)}`);
    return EXIT.usage;
  }
  if (parsed.help) {
    context.stdout(parsed.json ? JSON.stringify({ ok: true, command: 'help', usage: usage(lines) }, null, 2) : usage(lines));
    return EXIT.ok;
  }
  const { name, common, options } = parsed;
  const progress = common.json ? context.stderr : context.stdout;
  const pause = testPauseFrom(context.env[TEST_PAUSE_VARIABLE], progress);
  const deps = { ...context.deps(progress), ...(pause ? { testPause: pause } : {}) };
  const stateDir =
    common.stateDir === undefined
      ? resolve(context.workspaceRoot, DEFAULT_STATE_DIR)
      : isAbsolute(common.stateDir)
        ? common.stateDir
        : resolve(context.cwd, common.stateDir);
  const serviceBuildDir = context.env['BLUEGREEN_SERVICE_BUILD'];
  const specFile = context.env['BLUEGREEN_SPEC'];
  const layout = stackLayout(context.workspaceRoot, stateDir, deps.tmpRoot, {
    ...(serviceBuildDir ? { serviceBuildDir } : {}),
    ...(specFile ? { specFile: resolve(context.cwd, specFile) } : {}),
  });
  const descriptorNamed = (commandName: string): CommandDescriptor => {
    const descriptor = registry.commands.find((command) => command.name === commandName);
    if (!descriptor) throw new Error(`no command "${commandName}" in the registry`);
    return descriptor;
  };

  if (name === 'dashboard') {
    try {
      await serveDashboard({ name, ...common, ...(options as object) } as Extract<Command, { name: 'dashboard' }>, {
        workspaceRoot: context.workspaceRoot,
        layout,
        stdout: context.stdout,
        deps: context.deps,
        contextFor: (commandName, lineDeps) => contextFor(descriptorNamed(commandName), common, undefined, lineDeps, layout, context),
        stopped: context.stopped ?? untilSignal,
      });
      return EXIT.ok;
    } catch (error) {
      const known = error instanceof DeployError ? error : unexpected(error);
      if (common.json) context.stdout(JSON.stringify({ ok: false, command: name, result: null, error: errorJson(known) }, null, 2));
      else context.stderr(`deploy dashboard: ${known.message}\n${known.hint}`);
      return EXIT.failed;
    }
  }

  const descriptor = descriptorNamed(name);
  const listening: { dispose(): void }[] = [];
  let outcome: Outcome;
  try {
    const commandContext = await contextFor(descriptor, common, descriptor.preflight?.diffFlags?.(options), deps, layout, context);
    const env: RunEnv = {
      spec: () => loadSpec(layout),
      workspaceRoot: layout.workspaceRoot,
      cwd: context.cwd,
      signals: () => {
        const signals = processSignals(commandContext.progress);
        listening.push(signals);
        return signals;
      },
    };
    const result = await descriptor.run(commandContext, options, env);
    const verdict = descriptor.verdict?.(result) ?? { ok: true };
    outcome = {
      ok: verdict.ok,
      ...(!verdict.ok && verdict.exitCode !== undefined ? { exitCode: verdict.exitCode } : {}),
      lines: registry.format(name, result),
      result,
      ...(!verdict.ok && verdict.error ? { error: verdict.error } : {}),
      ...(descriptor.report ? { report: true } : {}),
    };
  } catch (error) {
    const known = error instanceof DeployError ? error : unexpected(error);
    outcome = { ok: false, lines: [], result: known.data ?? null, error: known };
  } finally {
    for (const signals of listening) signals.dispose();
  }
  if (common.json) {
    context.stdout(
      JSON.stringify(
        { ok: outcome.ok, command: name, result: outcome.result, ...(outcome.error ? { error: errorJson(outcome.error) } : {}) },
        null,
        2,
      ),
    );
  } else {
    if (outcome.lines.length > 0) (outcome.ok || outcome.report ? context.stdout : context.stderr)(outcome.lines.join('\n'));
    if (outcome.error) context.stderr(`deploy ${name}: ${outcome.error.message}\n${outcome.error.hint}`);
  }
  return outcome.ok ? EXIT.ok : (outcome.exitCode ?? EXIT.failed);
}

/** The one place a backend is chosen; a new backend is one more case here. */
async function contextFor(
  command: CommandDescriptor,
  common: Common,
  diffFlags: DiffFlags | undefined,
  deps: RuntimeDeps,
  layout: StackLayout,
  context: CliContext,
): Promise<CommandContext> {
  const kind: BackendKind = common.backend;
  // The spec is read only where it is needed, so `down` and `status` of a local stack work with a
  // broken spec. Every command that can move a route gets the gates (release: with --switch).
  const moves = command.preflight !== undefined;
  const spec = moves || kind !== 'local' ? loadSpec(layout) : undefined;
  // Local and Compose keep the lock, the history and the latest diff report in the state folder; a cluster keeps the first two in itself.
  let stores: Pick<CommandContext, 'lock' | 'history' | 'canaryRun' | 'lastDiff'> = stateFolderStores(layout);
  let preflight: Gate[] = [];
  try {
    if (moves && spec) {
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
      const diff = { ...diffSettingsWith(spec, diffFlags, { workspaceRoot: layout.workspaceRoot, cwd: context.cwd }), onReport };
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
        ...(await detectEngineCommands(deps.run, context.env['BLUEGREEN_COMPOSE_COMMAND'])),
      };
      backend = composeBackend(target, { clock: deps.clock, progress: deps.progress });
      break;
    }
    case 'kubernetes': {
      const namespace = common.namespace ?? (spec ?? loadSpec(layout)).kubernetes.namespace;
      const api = await connectKubernetes({
        namespace,
        env: context.env,
        ...(common.kubeContext ? { context: common.kubeContext } : {}),
      });
      const kubeSpec = spec ?? loadSpec(layout);
      const prometheusUrl = context.env['BLUEGREEN_PROMETHEUS_URL'] || kubeSpec.kubernetes.prometheusUrl;
      const { transport, where } = prometheusTransport(prometheusUrl, {
        api,
        http: deps.http,
        inCluster: context.env['KUBERNETES_SERVICE_HOST'] !== undefined,
      });
      const lock = leaseLock(api, deps.clock, deps.progress);
      // Every change of the deployment is made only while the Lease is surely this command's.
      backend = kubernetesBackend(
        writesUnderLease(api, lock),
        { clock: deps.clock, progress: deps.progress },
        { prometheus: prometheusClient(transport, where), previewPathPrefix: kubeSpec.preview.pathPrefix },
      );
      // The lock and the history in the cluster (one for everyone); a running canary's progress and the
      // latest diff report stay in this machine's state folder, for a dashboard run here.
      const { canaryRun, lastDiff } = stateFolderStores(layout);
      stores = { lock, history: configMapHistory(api), canaryRun, lastDiff };
      break;
    }
    default: {
      const unreachable: never = kind;
      return unreachable;
    }
  }
  return {
    // Every change is made only while this command's lock is surely held.
    backend: changesUnderLock(backend, stores.lock),
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

function errorJson(error: DeployError): CliError {
  return { code: error.code, message: error.message, hint: error.hint };
}
