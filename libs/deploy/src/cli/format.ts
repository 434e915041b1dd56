import { formatJudge } from './judge-format';
import type { Color } from '@mlbg/contract';
import type { BackendStatus, DownResult, ProcessState, ReleaseResult, UpResult } from '../backends/backend';
import type { StatusResult } from '../commands/stack/stack';
import type { CanaryResult } from '../commands/canary/canary';
import { describeInterval } from '../commands/canary/canary-interval';
import type { CanaryView } from '../commands/canary/canary-view';
import type { SwitchResult } from '../commands/switch/switch';
import type { HealthView } from '../effects/service-client';
import type { GateResult } from '../gates/gate';
import type { HistoryEntry, MoveEntry } from '../history/history';
import { describeWeights } from '../routing/routes';
import type { CommandName, CommandResult } from '../commands/registry';
import { formatDiff } from './diff-format';
import { formatCapture, formatShadow, formatShadowLines } from './shadow-format';

/** Short human summaries of each command's result. Pure: a result in, lines out. */

/** A command's result for people. */
export type Formatter<Result> = (result: Result) => string[];

/** One formatter per command of the registry (the compiler checks none is missing). */
export const FORMATTERS: { readonly [Name in CommandName]: Formatter<CommandResult<Name>> } = {
  up: formatUp,
  down: formatDown,
  status: formatStatus,
  switch: (result) => formatSwitch(result, 'switch'),
  rollback: (result) => formatSwitch(result, 'rollback'),
  release: (result) => [...formatRelease(result), ...(result.switch ? formatSwitch(result.switch, 'switch') : [])],
  canary: formatCanary,
  promote: formatCanary,
  judge: formatJudge,
  shadow: formatShadow,
  diff: formatDiff,
  capture: formatCapture,
};

export function formatUp(result: UpResult): string[] {
  if (result.kind === 'already-up') {
    return [
      'The stack is already up; nothing was changed (run `deploy:down` first to restart it with other settings).',
      ...formatStatus(result.status),
    ];
  }
  const rows: [string, string, string][] = [
    [
      'router',
      `${result.routerUrl}/`,
      `${result.nginxPid === null ? 'nginx' : `nginx pid ${result.nginxPid}`}, live route -> ${result.live} ${result.colors[result.live].version}`,
    ],
    ['preview', result.previewUrl, `-> ${result.preview} ${result.colors[result.preview].version} (not live)`],
    ...(['blue', 'green'] as const).map((color): [string, string, string] => {
      const item = result.colors[color];
      const source = item.modelSource === 'spec' ? '' : ` (from the ${item.modelSource})`;
      const others = (item.replicas ?? []).slice(1).map((replica) => `${replica.name}${replica.pid === null ? '' : ` pid ${replica.pid}`}`);
      const replicas = item.replicas && item.replicas.length > 1 ? `${item.replicas.length} replicas (+ ${others.join(', ')}), ` : '';
      return [
        color,
        item.url,
        `${item.pid === null ? '' : `pid ${item.pid}, `}${replicas}${item.version}, ${item.featureCount} feature(s), ${item.model}${source}`,
      ];
    }),
  ];
  const width = Math.max(...rows.map(([, url]) => url.length));
  return [
    `The stack is up in ${(result.durationMs / 1000).toFixed(1)} s: ${result.live} is live, ${result.preview} is on the preview route.`,
    ...rows.map(([name, url, what]) => `  ${name.padEnd(8)} ${url.padEnd(width)}  ${what}`),
    ...result.notes.map((note) => `Note: ${note}`),
    `Try: curl ${result.routerUrl}/health`,
    `     curl -X POST ${result.routerUrl}/predict -H 'Content-Type: application/json' -d '{"features": [[1], [2], [3]]}'`,
    `Logs: ${result.logDir}/. Switch with \`npx nx run deploy:switch\`; stop with \`npx nx run deploy:down\`.`,
  ];
}

export function formatDown(result: DownResult): string[] {
  const lines = [result.kind === 'nothing' ? 'Nothing was running; nothing to stop.' : 'The stack is down.'];
  for (const item of result.processes) {
    if (item.result === 'no pid file') continue;
    lines.push(
      `  ${item.name.padEnd(5)}  ${item.pid === null ? '' : `pid ${item.pid}: `}${item.result}${item.ms === undefined ? '' : ` in ${(item.ms / 1000).toFixed(1)} s`}`,
    );
  }
  if (result.removedRuntimeDir) lines.push('  removed the sockets and the nginx prefix folder');
  lines.push(...result.notes.map((note) => `Note: ${note}`));
  return lines;
}

function health(view: HealthView): string {
  if (view.ok) return `ok ${view.version} (${view.featureCount} feature(s))`;
  if (view.httpStatus === null) return `DOWN: ${view.error}`;
  return `${view.httpStatus} ${view.status ?? ''}${view.error ? ` ${view.error}` : ''}`.replace(/\s+/g, ' ').trim();
}

function serving(view: HealthView): string {
  if (view.httpStatus === null) return `no answer: ${view.error}`;
  if (view.ok) return `${view.color} ${view.version}`;
  return `${view.httpStatus}${view.color ? ` from ${view.color}` : ''}: ${view.error ?? view.status}`;
}

function historyLines(status: Partial<Pick<StatusResult, 'lastSwitch' | 'lastAttempt' | 'lastAction'>>): string[] {
  const entry: MoveEntry | null | undefined = status.lastSwitch;
  const lines = [
    entry
      ? `Last switch: ${entry.time} ${entry.from} -> ${entry.to} (${entry.fromVersion} -> ${entry.toVersion}) by ${entry.user}${entry.command === 'rollback' ? ' (rollback)' : ''}, ${entry.durationMs} ms`
      : 'Last switch: none yet',
  ];
  const attempt = status.lastAttempt;
  if (attempt && attempt !== entry && attempt.outcome !== 'switched')
    lines.push(`Last attempt: ${attempt.time} ${attempt.from} -> ${attempt.to} ${attempt.outcome}: ${attempt.reason ?? ''}`);
  const action = status.lastAction;
  if (action && action !== attempt && action.command !== 'switch' && action.command !== 'rollback')
    lines.push(`Last action: ${describeAction(action)}`);
  return lines;
}

/** One history entry in a line. Pure. */
export function describeAction(entry: HistoryEntry): string {
  const why = entry.reason ? `: ${entry.reason.split('\n')[0]}` : '';
  switch (entry.command) {
    case 'switch':
    case 'rollback':
      return `${entry.time} ${entry.command} ${entry.from} -> ${entry.to} ${entry.outcome}${why}`;
    case 'up':
      return `${entry.time} up ${entry.outcome}${entry.live ? `, ${entry.live} live` : ''}${why}`;
    case 'down':
      return `${entry.time} down ${entry.outcome}${why}`;
    case 'release':
      return `${entry.time} release of ${entry.model} to ${entry.color ?? 'the idle color'} ${entry.outcome}${entry.version ? ` (${entry.version})` : ''}${why}`;
    case 'canary':
      return `${entry.time} canary of ${entry.canary} ${entry.canaryVersion ?? ''} (stable ${entry.stable}) ${entry.outcome} at ${entry.weight}%${why}`;
    case 'restart':
      return `${entry.time} supervisor ${entry.outcome === 'failed' ? 'gave up on' : 'restarted'} ${entry.process} (${entry.exit}; ${entry.restarts} restart(s) so far)`;
    case 'reconcile':
      return `${entry.time} an interrupted switch ${entry.from} -> ${entry.to} was settled: ${entry.outcome === 'flipped' ? `the route had moved, ${entry.to} is live` : `nothing had moved, ${entry.from} stays live`}`;
    case 'switch-intent':
      return `${entry.time} switch ${entry.from} -> ${entry.to} started (no outcome recorded yet)`;
    case 'shadow':
      return `${entry.time} shadow ${entry.outcome}${entry.percent === null ? '' : ` (${entry.percent}%)`}${entry.relay ? `, relay forwarded ${entry.relay.forwarded}, dropped ${entry.relay.dropped}` : ''}${why}`;
    default: {
      const unreachable: never = entry;
      return unreachable;
    }
  }
}

/** `deploy:status` of any backend (and the status shown by `up` when the stack is already up). */
export function formatStatus(
  status: BackendStatus & Partial<Pick<StatusResult, 'lastSwitch' | 'lastAttempt' | 'lastAction' | 'canary'>>,
): string[] {
  const title =
    status.backend === 'compose'
      ? `Compose deployment (${status.where})`
      : status.backend === 'kubernetes'
        ? `Kubernetes deployment (${status.where})`
        : `Stack`;
  const routerName = status.backend === 'kubernetes' ? 'service' : 'nginx';
  if (!status.router || !status.colors) {
    return [
      `${title}: ${status.stack} (state ${status.where}).`,
      ...(status.routes ? [`Routes: live ${describeWeights(status.routes.live)}, preview ${describeWeights(status.routes.preview)}`] : []),
      ...status.notes.map((note) => `  ${note}`),
      ...historyLines(status),
      'Start it with `npx nx run deploy:up`.',
    ];
  }
  const { router, colors } = status;
  const lines = [
    `${title}: ${status.stack}, ${status.healthy ? 'healthy' : 'NOT healthy'}${status.backend === 'local' ? ` (state ${status.where})` : ''}`,
    `Live: ${status.live ?? '?'}   Preview: ${status.preview ?? '?'}${status.routes ? `   (live ${describeWeights(status.routes.live)}, preview ${describeWeights(status.routes.preview)})` : ''}`,
    `  ${routerName.padEnd(7)}  ${router.url}/  ${processLabel(router)}  serving now: ${serving(router.serving)}`,
    `           ${router.previewUrl}  preview: ${serving(router.previewServing)}`,
    ...(['blue', 'green'] as Color[]).flatMap((color) => {
      const item = colors[color];
      const pods = item.replicaList
        ? `  ${item.replicas?.ready ?? 0}/${item.replicas?.desired ?? item.replicaList.length} replicas healthy`
        : item.replicas
          ? `  ${item.replicas.ready}/${item.replicas.desired} pods ready, ${item.image}, version label ${item.versionLabel ?? '-'}`
          : '';
      const replicas = (item.replicaList ?? []).map(
        (replica) =>
          `             ${replica.name.padEnd(18)}  ${processLabel(replica).padEnd(10)}  ${(replica.phase ?? '-').padEnd(9)}  ${health(replica.health)}${replica.restarts === null ? '' : `  ${replica.restarts} restart(s)`}`,
      );
      return [
        `  ${color.padEnd(7)}  ${item.url}  ${(item.role ?? '').padEnd(7)}  ${processLabel(item)}  ${health(item.health)}${item.model ? `  ${item.model}` : ''}${pods}`,
        ...replicas,
      ];
    }),
    ...canaryLines(status.canary ?? null),
    ...supervisorLines(status),
    ...historyLines(status),
  ];
  if (status.shadow) lines.push(...formatShadowLines(status.shadow));
  if (router.port !== router.requestedPort)
    lines.push(`Note: nginx listens on ${router.port} because port ${router.requestedPort} could not be used.`);
  lines.push(...status.notes.map((note) => `Note: ${note}`));
  return lines;
}

function canaryLines(view: CanaryView | null): string[] {
  if (!view) return [];
  const steps = view.steps ? ` (steps ${view.steps.join(', ')})` : '';
  const head =
    view.state === 'running'
      ? `Canary: ${view.canary} at ${view.weight}%, step ${view.step ?? '?'} of ${view.steps?.length ?? '?'}${steps}, next analysis in ${Math.round((view.nextAnalysisInMs ?? 0) / 1000)} s (pid ${view.pid})`
      : `Canary interrupted at ${view.weight}% (${view.canary}; stable ${view.stable})${steps}: continue with \`npx nx run deploy:canary --resume\`, promote with \`npx nx run deploy:promote\`, or move all traffic back with \`npx nx run deploy:canary --abort\``;
  return [head, ...(view.lastAnalysis ? [`  last ${describeInterval(view.lastAnalysis)}`] : [])];
}

/** What a canary command did, for people. */
export function formatCanary(result: CanaryResult): string[] {
  if (result.kind === 'noop') return [`Nothing to do: ${result.note}`];
  const versions = `${result.stable} ${result.stableVersion ?? '?'} -> ${result.canary} ${result.canaryVersion ?? '?'}`;
  const intervals = result.intervals.map((interval) => `  ${describeInterval(interval)}`);
  const failedGates = result.gates.filter((gate) => !gate.ok).flatMap(gateLine);
  switch (result.kind) {
    case 'promoted':
      return [
        `Promoted ${result.canary}: all live traffic on it (${versions}).`,
        ...intervals,
        `  ${result.stable} stays up on the preview route; \`npx nx run deploy:rollback\` returns to it.`,
      ];
    case 'aborted':
      return [`Aborted the canary of ${result.canary}: all live traffic back on ${result.stable}.`, ...intervals];
    case 'rolled-back':
      return [
        `ROLLED BACK: the canary ${result.canary} failed; all live traffic is back on ${result.stable} (${versions}).`,
        ...intervals,
        ...(result.reason ? [`  why: ${result.reason}`] : []),
      ];
    case 'stopped':
      return [`Stopped: all live traffic is back on ${result.stable}.`, ...intervals];
    case 'kept':
      return [
        `Stopped with --keep: ${result.canary} keeps ${result.weight}% of live traffic.`,
        ...intervals,
        '  Continue with `npx nx run deploy:canary --resume`, or `--abort`.',
      ];
    case 'refused':
      return [`Refused: ${result.canary} failed its preflight; nothing was changed.`, ...failedGates];
    case 'broken':
      return [`BROKEN: ${result.reason ?? ''}`, ...intervals];
    default: {
      const unreachable: never = result;
      return unreachable;
    }
  }
}

function supervisorLines(status: BackendStatus): string[] {
  const view = status.supervisor;
  if (!view) return [];
  const head = `Supervisor: ${view.process === 'running' ? `pid ${view.pid}` : view.process === 'none' ? 'not started' : view.process}`;
  const rows = Object.entries(view.processes).map(([name, item]) => {
    const exit = item.lastExit ? `, last exit ${item.lastExit.at}: ${item.lastExit.reason}` : '';
    return `  ${name.padEnd(7)}  ${item.phase}${item.pid !== null ? ` (pid ${item.pid}${item.adopted ? ', adopted' : ''})` : ''}, ${item.restarts} restart(s)${exit}`;
  });
  return [head, ...rows];
}

function processLabel(item: { process: ProcessState; pid: number | null; container?: string }): string {
  if (item.process === 'running') return item.pid !== null ? `pid ${item.pid}` : (item.container ?? 'running');
  if (item.process === 'none') return 'not started';
  return item.container ? `${item.container} ${item.process}` : item.process;
}

function gateLine(gate: GateResult): string[] {
  if (gate.ok) return [`  ok  ${gate.observed}`];
  return [
    `  FAILED  ${gate.name}: ${gate.observed}`,
    `          expected: ${gate.expected}`,
    ...(gate.hint ? [`          what to do: ${gate.hint}`] : []),
  ];
}

export function formatSwitch(result: SwitchResult, command: 'switch' | 'rollback'): string[] {
  switch (result.kind) {
    case 'noop':
      return [
        `${result.color} is already live${result.version ? ` (${result.version})` : ''}; nothing to do.${result.note ? ` (${result.note})` : ''}`,
      ];
    case 'switched':
      return [
        `${command === 'rollback' ? 'Rolled back' : 'Switched'} live traffic ${result.from} -> ${result.to} (${result.fromVersion} -> ${result.toVersion}).`,
        ...result.gates.flatMap(gateLine),
        `  ${result.from} stays up on the preview route for an instant \`npx nx run deploy:rollback\`.`,
      ];
    case 'refused':
    case 'reverted':
    case 'broken': {
      const lines = result.gates.flatMap(gateLine);
      return lines.some((line) => line.startsWith('  FAILED')) ? lines : [...lines, `  FAILED  ${result.reason}`];
    }
    default: {
      const unreachable: never = result;
      return unreachable;
    }
  }
}

export function formatRelease(result: ReleaseResult): string[] {
  return [
    `Released ${result.model}${result.image ? ` (image ${result.image})` : ''} to ${result.color}: it runs ${result.version} (${result.featureCount} feature(s))${result.pid === null ? '' : `, pid ${result.pid}`}, in ${(result.durationMs / 1000).toFixed(1)} s.`,
    `  ${result.live.color} stays live (${result.live.version}). ${result.color} is NOT live; it is on the preview route:`,
    `    curl ${result.previewUrl}health`,
    `    curl -X POST ${result.previewUrl}predict -H 'Content-Type: application/json' -d '{"features": [[1], [2], [3]]}'`,
    ...result.notes.map((note) => `Note: ${note}`),
    `When it looks right: \`npx nx run deploy:switch --color=${result.color}\`.${result.previousModel ? ` (It ran ${result.previousModel} before.)` : ''}`,
  ];
}
