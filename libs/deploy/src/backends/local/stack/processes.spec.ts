import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeClock } from '../../../testing/fakes';
import type { BindCheck, ProcessControl, ProcessInfo, RuntimeDeps } from '../../../effects/deps';
import { DEPLOY_ERRORS } from '../../../errors';
import { STACK_ENV_MARKER, stackLayout } from '../layout';
import { isStackProcess, stopProcess } from './processes';
import { FALLBACK_ROUTER_PORTS, chooseRouterPort, requireNginx, routerPortCandidates } from '../nginx/nginx-process';

const layout = stackLayout('/repo', '.bluegreen', '/tmp');

/** A process table in memory: each pid exits after `exitsAfter` signals of the given kinds. */
function fakeProcesses(
  table: Record<number, ProcessInfo & { exitsOn: NodeJS.Signals[]; children?: number[] }>,
): ProcessControl & { signals: [number, string][] } {
  const signals: [number, string][] = [];
  return {
    signals,
    spawnDetached: () => {
      throw new Error('not used');
    },
    inspect: (pid) => table[pid],
    children: (pid) => table[pid]?.children ?? [],
    signal(pid, signal) {
      const entry = table[pid];
      if (!entry) return false;
      signals.push([pid, signal]);
      if (entry.exitsOn.includes(signal)) {
        delete table[pid];
        for (const child of Object.values(table)) if (child.ppid === pid) Object.assign(child, { ppid: 1 });
      }
      return true;
    },
  };
}

const service = (pid: number, color: string, marker = layout.stateDir): ProcessInfo => ({
  pid,
  ppid: 1,
  cmdline: ['/usr/bin/node', layout.serviceMain],
  environ: { COLOR: color, [STACK_ENV_MARKER]: marker },
});

describe('isStackProcess', () => {
  it("accepts only this stack's service of that color, and only this stack's nginx", () => {
    expect(isStackProcess(layout, 'blue', service(10, 'blue'))).toBe(true);
    expect(isStackProcess(layout, 'green', service(10, 'blue'))).toBe(false);
    expect(isStackProcess(layout, 'blue', service(10, 'blue', '/other/.bluegreen'))).toBe(false);
    expect(isStackProcess(layout, 'blue', { pid: 10, ppid: 1, cmdline: ['node', 'dist/apps/model-service/src/main.js'] })).toBe(false);
    expect(isStackProcess(layout, 'blue', { pid: 10, ppid: 1, cmdline: ['sleep', '100'], environ: {} })).toBe(false);
    const nginx = {
      pid: 11,
      ppid: 1,
      cmdline: [`nginx: master process /usr/sbin/nginx -p ${layout.nginxPrefix}/ -c nginx.conf -g daemon off;`],
    };
    expect(isStackProcess(layout, 'nginx', nginx)).toBe(true);
    expect(isStackProcess(layout, 'nginx', { ...nginx, cmdline: ['nginx: master process /usr/sbin/nginx -g daemon off;'] })).toBe(false);
  });
});

describe('stopProcess', () => {
  const options = { label: 'blue', signal: 'SIGTERM' as const, timeoutMs: 1_000, progress: () => undefined };

  it('sends the polite signal and waits', async () => {
    const processes = fakeProcesses({ 10: { ...service(10, 'blue'), exitsOn: ['SIGTERM'] } });
    expect(await stopProcess({ processes, clock: fakeClock() }, 10, () => true, options)).toEqual({ kind: 'stopped', ms: 0 });
    expect(processes.signals).toEqual([[10, 'SIGTERM']]);
  });

  it('sends SIGKILL after the timeout, and kills children the parent left behind', async () => {
    const processes = fakeProcesses({
      20: { pid: 20, ppid: 1, cmdline: ['nginx: master process /usr/sbin/nginx'], exitsOn: ['SIGKILL'], children: [21] },
      21: { pid: 21, ppid: 20, cmdline: ['nginx: worker process'], exitsOn: ['SIGKILL'] },
    });
    const result = await stopProcess({ processes, clock: fakeClock() }, 20, () => true, { ...options, signal: 'SIGQUIT' });
    expect(result).toMatchObject({ kind: 'killed' });
    expect(processes.signals).toEqual([
      [20, 'SIGQUIT'],
      [20, 'SIGKILL'],
      [21, 'SIGKILL'],
    ]);
  });

  it('never signals a pid that now belongs to another program, nor one that is gone', async () => {
    const processes = fakeProcesses({ 30: { pid: 30, ppid: 1, cmdline: ['postgres'], exitsOn: ['SIGTERM'] } });
    const isOurs = (info: ProcessInfo) => isStackProcess(layout, 'blue', info);
    expect(await stopProcess({ processes, clock: fakeClock() }, 30, isOurs, options)).toEqual({ kind: 'not-ours', command: 'postgres' });
    expect(await stopProcess({ processes, clock: fakeClock() }, 31, isOurs, options)).toEqual({ kind: 'not-running' });
    expect(processes.signals).toEqual([]);
  });
});

describe('the router port', () => {
  const depsWith = (canBind: (port: number) => BindCheck) => ({ canBind: async (port: number) => canBind(port) }) as unknown as RuntimeDeps;

  it('tries the fallbacks only when no port was asked for', () => {
    expect(routerPortCandidates(80, false, [8081, 8082])).toEqual([80, ...FALLBACK_ROUTER_PORTS]);
    expect(routerPortCandidates(80, false, [8080, 8082])).toEqual([80, 8000, 8088, 8888]);
    expect(routerPortCandidates(9000, true, [])).toEqual([9000]);
  });

  it('falls back to an unprivileged port and says why', async () => {
    const noRoot = depsWith((port) => (port < 1024 ? { ok: false, code: 'EACCES', message: 'permission denied' } : { ok: true }));
    expect(await chooseRouterPort(noRoot, [80, 8080], false)).toEqual({
      port: 8080,
      note: 'nginx listens on port 8080 instead of 80: port 80 needs root (ports below 1024 are privileged). Pass --router-port (or BLUEGREEN_ROUTER_PORT) to choose it.',
    });
    const taken = depsWith((port) => (port === 80 ? { ok: false, code: 'EADDRINUSE', message: 'in use' } : { ok: true }));
    expect((await chooseRouterPort(taken, [80, 8080], false)).note).toContain('port 80 is already in use by another program');
    expect(await chooseRouterPort(taken, [8080], true)).toEqual({ port: 8080 });
  });

  it('fails with every port it tried when none can be used', async () => {
    const none = depsWith(() => ({ ok: false, code: 'EADDRINUSE', message: 'in use' }));
    await expect(chooseRouterPort(none, [9000], true)).rejects.toMatchObject({
      code: 'PORT_UNAVAILABLE',
      message: expect.stringContaining('nginx can not listen: port 9000 is already in use by another program.'),
      hint: expect.stringContaining('--router-port'),
    });
  });

  it('says how to install nginx when it is missing', () => {
    expect(() => requireNginx({ findBinary: () => undefined } as unknown as RuntimeDeps)).toThrow(DEPLOY_ERRORS.NGINX_NOT_FOUND.message);
    expect(DEPLOY_ERRORS.NGINX_NOT_FOUND.hint).toContain('apt-get install -y nginx');
  });
});

describe('the error catalogue', () => {
  it('is documented: every code appears in the errors table of docs/operate.md', () => {
    const guide = readFileSync(join(__dirname, '../../../../../../docs/operate.md'), 'utf8');
    const errors = guide.slice(guide.indexOf('\n## Errors\n'));
    const missing = Object.keys(DEPLOY_ERRORS).filter((code) => !errors.includes(`| \`${code}\` |`));
    expect(missing).toEqual([]);
  });
});
