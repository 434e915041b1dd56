import { type Color, otherColor } from '@mlbg/contract';
import { appendFileSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderNginxConf } from '../../../render/nginx/nginx';
import { localNginxSite } from '../../../render/nginx/nginx-site';
import type { DeploymentSpec } from '../../../spec/deployment-spec';
import type { BindCheck, RuntimeDeps } from '../../../effects/deps';
import { DeployError } from '../../../errors';
import type { StackLayout } from '../layout';
import type { Readiness } from '../services/color-service';

/** nginx's config file name inside its prefix folder. */
export const NGINX_CONF = 'nginx.conf';
/** The router listens on loopback (the renderer's local default). */
export const ROUTER_HOST = '127.0.0.1';
/** Unprivileged ports tried, in order, when the spec's port (80) can not be bound and no port was asked for. */
export const FALLBACK_ROUTER_PORTS: readonly number[] = [8080, 8000, 8088, 8888];

/** @throws DeployError NGINX_NOT_FOUND, with how to install it */
export function requireNginx(deps: RuntimeDeps): string {
  const nginx = deps.findBinary('nginx');
  if (!nginx) throw new DeployError('NGINX_NOT_FOUND', '');
  return nginx;
}

/** The ports to try for nginx: only the asked-for one if it was asked for, else the spec's and then the fallbacks. Pure. */
export function routerPortCandidates(requested: number, explicit: boolean, taken: readonly number[]): number[] {
  if (explicit) return [requested];
  return [requested, ...FALLBACK_ROUTER_PORTS.filter((port) => port !== requested && !taken.includes(port))];
}

/** The port nginx will listen on, and a note when it is not the one requested. */
export interface RouterPortChoice {
  readonly port: number;
  readonly note?: string;
}

/**
 * The first candidate this user can bind on loopback.
 * @throws DeployError PORT_UNAVAILABLE naming each port tried and why
 */
export async function chooseRouterPort(deps: RuntimeDeps, candidates: readonly number[], explicit: boolean): Promise<RouterPortChoice> {
  const refused: string[] = [];
  for (const port of candidates) {
    const check = await deps.canBind(port, ROUTER_HOST);
    if (check.ok) {
      const [first] = candidates;
      if (port === first) return { port };
      return {
        port,
        note: `nginx listens on port ${port} instead of ${first}: ${refused[0]}. Pass --router-port (or BLUEGREEN_ROUTER_PORT) to choose it.`,
      };
    }
    refused.push(`port ${port} ${explainBind(check)}`);
  }
  throw new DeployError('PORT_UNAVAILABLE', `nginx can not listen: ${refused.join('; ')}.`, {
    ...(explicit ? { hint: 'Choose another port with --router-port (or BLUEGREEN_ROUTER_PORT), or stop what listens there.' } : {}),
  });
}

export function explainBind(check: Exclude<BindCheck, { ok: true }>): string {
  if (check.code === 'EACCES') return 'needs root (ports below 1024 are privileged)';
  if (check.code === 'EADDRINUSE') return 'is already in use by another program';
  return `can not be bound (${check.message})`;
}

/** Renders the local nginx.conf into the prefix folder and checks it with `nginx -t`. */
export async function writeAndTestNginxConf(
  deps: RuntimeDeps,
  nginx: string,
  layout: StackLayout,
  spec: DeploymentSpec,
  port: number,
): Promise<void> {
  const site = localNginxSite(spec, { socketDir: layout.socketDir, host: ROUTER_HOST, port });
  writeFileSync(join(layout.nginxPrefix, NGINX_CONF), renderNginxConf(spec, site));
  const test = await deps.run(nginx, ['-t', ...nginxArgs(layout)], { timeoutMs: 15_000 });
  if (test.code !== 0) {
    throw new DeployError('NGINX_CONFIG_INVALID', `${join(layout.nginxPrefix, NGINX_CONF)}:\n${(test.stderr || test.error || '').trim()}`);
  }
}

/** `-p <prefix>/ -c nginx.conf`: every path in the config is relative to the prefix. */
export function nginxArgs(layout: StackLayout): string[] {
  return ['-p', `${layout.nginxPrefix}/`, '-c', NGINX_CONF];
}

/** nginx is ready when its live route answers as the live color and its preview route as the other. */
export async function probeRouter(deps: RuntimeDeps, port: number, live: Color, previewPrefix: string): Promise<Readiness<true>> {
  const routes: [string, Color][] = [
    ['/health', live],
    [`${previewPrefix}health`, otherColor(live)],
  ];
  for (const [path, color] of routes) {
    try {
      const answer = await deps.http({ host: ROUTER_HOST, port }, { method: 'GET', path, timeoutMs: 2_000 });
      const answered = answer.headers['x-color'];
      if (answer.status !== 200 || answered !== color)
        return { ready: false, note: `${path} answered ${answer.status}${answered ? ` from ${answered}` : ''}` };
    } catch (error) {
      return { ready: false, note: (error as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'starting' : (error as Error).message };
    }
  }
  return { ready: true, facts: true, note: 'ok' };
}

/** Keeps nginx's logs when its prefix folder is removed: errors appended to logs/nginx.log, the last access log kept. */
export function saveNginxLogs(layout: StackLayout): void {
  try {
    appendFileSync(layout.logFile('nginx'), readFileSync(join(layout.nginxPrefix, 'error.log')));
  } catch {
    // no error log
  }
  try {
    copyFileSync(join(layout.nginxPrefix, 'access.log'), join(layout.logDir, 'nginx-access.log'));
  } catch {
    // no access log
  }
}
