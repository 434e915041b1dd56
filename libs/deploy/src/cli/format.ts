import type { Color } from '@mlbg/contract';
import type { ComposeStatus } from '../backends/compose/compose-backend';
import type { HistoryEntry } from '../effects/history';
import type { ReleaseResult } from '../backends/local/release';
import type { DownResult, UpResult } from '../backends/local/lifecycle';
import type { HealthView, LocalStatus } from '../backends/local/status';
import type { SwitchResult } from '../commands/switch';

/** Short human summaries of each command's result. Pure: a result in, lines out. */

export function formatUp(result: UpResult): string[] {
  if (result.kind === 'already-up') {
    return ['The stack is already up; nothing was changed (run `deploy:down` first to restart it with other settings).', ...formatLocalStatus(result.status)];
  }
  const rows: [string, string, string][] = [
    ['router', `${result.routerUrl}/`, `nginx pid ${result.nginxPid}, live route -> ${result.live} ${result.colors[result.live].version}`],
    ['preview', result.previewUrl, `-> ${result.preview} ${result.colors[result.preview].version} (not live)`],
    ...(['blue', 'green'] as const).map((color): [string, string, string] => {
      const item = result.colors[color];
      const source = item.modelSource === 'spec' ? '' : ` (from the ${item.modelSource})`;
      return [color, item.url, `pid ${item.pid}, ${item.version}, ${item.featureCount} feature(s), ${item.model}${source}`];
    }),
  ];
  const width = Math.max(...rows.map(([, url]) => url.length));
  const lines = [
    `The stack is up in ${(result.durationMs / 1000).toFixed(1)} s: ${result.live} is live, ${result.preview} is on the preview route.`,
    ...rows.map(([name, url, what]) => `  ${name.padEnd(8)} ${url.padEnd(width)}  ${what}`),
    ...result.notes.map((note) => `Note: ${note}`),
    `Try: curl ${result.routerUrl}/health`,
    `     curl -X POST ${result.routerUrl}/predict -H 'Content-Type: application/json' -d '{"features": [[1], [2], [3]]}'`,
    `Logs: ${result.logDir}/. Switch with \`npx nx run deploy:switch\`; stop with \`npx nx run deploy:down\`.`,
  ];
  return lines;
}

export function formatDown(result: DownResult): string[] {
  const lines = [result.kind === 'nothing' ? 'Nothing was running; nothing to stop.' : 'The stack is down.'];
  for (const item of result.processes) {
    if (item.result === 'no pid file') continue;
    lines.push(`  ${item.name.padEnd(5)}  ${item.pid === null ? '' : `pid ${item.pid}: `}${item.result}${item.ms === undefined ? '' : ` in ${(item.ms / 1000).toFixed(1)} s`}`);
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

function lastSwitchLine(entry: HistoryEntry | null, attempt: HistoryEntry | null): string[] {
  const lines = [
    entry
      ? `Last switch: ${entry.time} ${entry.from} -> ${entry.to} (${entry.fromVersion} -> ${entry.toVersion}) by ${entry.user}${entry.command === 'rollback' ? ' (rollback)' : ''}, ${entry.durationMs} ms`
      : 'Last switch: none yet',
  ];
  if (attempt && attempt !== entry && attempt.outcome !== 'switched') {
    lines.push(`Last attempt: ${attempt.time} ${attempt.from} -> ${attempt.to} ${attempt.outcome}: ${attempt.reason ?? ''}`);
  }
  return lines;
}

export function formatLocalStatus(status: LocalStatus): string[] {
  if (!status.router || !status.colors) {
    return [`Stack: ${status.stack} (state ${status.stateDir}).`, ...status.notes.map((note) => `  ${note}`), ...lastSwitchLine(status.lastSwitch, status.lastAttempt), 'Start it with `npx nx run deploy:up`.'];
  }
  const { router, colors } = status;
  const lines = [
    `Stack: ${status.stack}, ${status.healthy ? 'healthy' : 'NOT healthy'} (state ${status.stateDir})`,
    `Live: ${status.live ?? '?'}   Preview: ${status.preview ?? '?'}`,
    `  nginx    ${router.url}/  ${router.pid === null ? router.process : `pid ${router.pid}`}  serving now: ${serving(router.serving)}`,
    `           ${router.previewUrl}  preview: ${serving(router.previewServing)}`,
    ...(['blue', 'green'] as Color[]).map((color) => {
      const item = colors[color];
      const process = item.process === 'running' ? `pid ${item.pid}` : item.process === 'none' ? 'not started' : item.process;
      return `  ${color.padEnd(7)}  ${item.url}  ${(item.role ?? '').padEnd(7)}  ${process}  ${health(item.health)}  ${item.model}`;
    }),
    ...lastSwitchLine(status.lastSwitch, status.lastAttempt),
  ];
  if (router.port !== router.requestedPort) lines.push(`Note: nginx listens on ${router.port} because port ${router.requestedPort} could not be used.`);
  lines.push(...status.notes.map((note) => `Note: ${note}`));
  return lines;
}

export function formatComposeStatus(status: ComposeStatus): string[] {
  return [
    `Compose deployment (${status.composeCommand}): ${status.healthy ? 'healthy' : 'NOT healthy'}`,
    `Live: ${status.live ?? '?'}   Preview: ${status.preview ?? '?'}`,
    `  nginx    ${status.router.url}/  serving now: ${serving(status.router.serving)}`,
    `           ${status.router.previewUrl}  preview: ${serving(status.router.previewServing)}`,
    ...(['blue', 'green'] as Color[]).map((color) => `  ${color.padEnd(7)}  ${status.colors[color].service}  ${health(status.colors[color].health)}`),
    ...lastSwitchLine(status.lastSwitch, status.lastAttempt),
    ...status.notes.map((note) => `Note: ${note}`),
  ];
}

export function formatSwitch(result: SwitchResult, command: 'switch' | 'rollback'): string[] {
  switch (result.kind) {
    case 'noop':
      return [`${result.color} is already live${result.version ? ` (${result.version})` : ''}; nothing to do.${result.note ? ` (${result.note})` : ''}`];
    case 'switched':
      return [
        `${command === 'rollback' ? 'Rolled back' : 'Switched'} live traffic ${result.from} -> ${result.to} (${result.fromVersion} -> ${result.toVersion}).`,
        ...result.checks.map((check) => `  ok  ${check}`),
        `  ${result.from} stays up on the preview route for an instant \`npx nx run deploy:rollback\`.`,
      ];
    case 'refused':
    case 'reverted':
    case 'broken':
      return [...result.checks.map((check) => `  ok  ${check}`), `  FAILED  ${result.reason}`];
    default: {
      const unreachable: never = result;
      return unreachable;
    }
  }
}

export function formatRelease(result: ReleaseResult): string[] {
  return [
    `Released ${result.model} to ${result.color}: it runs ${result.version} (${result.featureCount} feature(s)), pid ${result.pid}, in ${(result.durationMs / 1000).toFixed(1)} s.`,
    `  ${result.live.color} stays live (${result.live.version}). ${result.color} is NOT live; it is on the preview route:`,
    `    curl ${result.previewUrl}health`,
    `    curl -X POST ${result.previewUrl}predict -H 'Content-Type: application/json' -d '{"features": [[1], [2], [3]]}'`,
    ...result.notes.map((note) => `Note: ${note}`),
    `When it looks right: \`npx nx run deploy:switch --color=${result.color}\`. (It ran ${result.previousModel} before.)`,
  ];
}
