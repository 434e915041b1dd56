import { spawn, spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import type { BindCheck, CommandRunner, HttpClient, ProcessControl, ProcessInfo, RuntimeDeps, TestPause, TestPausePoint } from './deps';

/** An HTTP call that names no timeout of its own is given up after this. */
export const DEFAULT_HTTP_TIMEOUT_MS = 5_000;
/** Who the history records for a command, instead of the OS user (set by the dashboard for the canary it starts). */
export const USER_VARIABLE = 'BLUEGREEN_USER';
const SBIN_FOLDERS = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

/** The real world: node:http, /proc (or `ps`), child_process, the clock. */
export function realDeps(options: {
  workspaceRoot: string;
  env: Readonly<Record<string, string | undefined>>;
  progress: (line: string) => void;
}): RuntimeDeps {
  return {
    workspaceRoot: options.workspaceRoot,
    tmpRoot: tmpdir(),
    uid: process.getuid?.() ?? -1,
    // BLUEGREEN_USER names who runs the command when it is not the OS user: the dashboard starts
    // a canary as its own CLI process, and that process must record the dashboard's user.
    userName: options.env[USER_VARIABLE] || currentUser(),
    clock: { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
    http: httpClient,
    processes: processControl,
    run: commandRunner,
    findBinary: (name) => findBinary(name, options.env['PATH']),
    canBind,
    env: options.env,
    nodeBinary: process.execPath,
    progress: options.progress,
  };
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

export const httpClient: HttpClient = (target, call) =>
  new Promise((resolve, reject) => {
    const timeoutMs = call.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
    const req = request(
      {
        ...(target.socketPath ? { socketPath: target.socketPath } : { host: target.host ?? '127.0.0.1', port: target.port }),
        method: call.method,
        path: call.path,
        agent: false,
        headers: {
          ...(call.body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(call.body) }),
          ...call.headers,
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          const headers: Record<string, string | undefined> = {};
          for (const [name, value] of Object.entries(res.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
          resolve({ status: res.statusCode ?? 0, headers, body });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(call.body);
  });

export const commandRunner: CommandRunner = (command, args, options = {}) =>
  new Promise((resolve) => {
    const child = spawn(command, [...args], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (error) => resolve({ code: null, stdout, stderr, error: error.message }));
    child.once('close', (code, signal) => resolve({ code, stdout, stderr, ...(signal ? { error: `killed by ${signal}` } : {}) }));
  });

/** Like the shell's lookup, plus the sbin folders (nginx lives in /usr/sbin, often not on a user's PATH). */
export function findBinary(name: string, path: string | undefined): string | undefined {
  const folders = [...(path ?? '').split(delimiter), ...SBIN_FOLDERS];
  for (const folder of folders.filter(Boolean)) {
    try {
      accessSync(join(folder, name), constants.X_OK);
      return join(folder, name);
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** A loopback TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** `count` distinct free loopback ports (for a stack beside another one, or a test). */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export function canBind(port: number, host: string): Promise<BindCheck> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, code: error.code ?? 'ERROR', message: error.message }));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve({ ok: true })));
  });
}

const HAS_PROC = (() => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
})();

export const processControl: ProcessControl = {
  spawnDetached(spec) {
    const fd = openSync(spec.logFile, 'a');
    try {
      const child = spawn(spec.command, [...spec.args], { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', fd, fd] });
      child.once('error', () => undefined); // reported below through the missing pid
      if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
      child.unref();
      return child.pid;
    } finally {
      closeSync(fd);
    }
  },
  inspect: (pid) => (HAS_PROC ? inspectProc(pid) : inspectPs(pid)),
  children(pid) {
    if (!HAS_PROC) {
      const out = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout ?? '';
      return out.split(/\s+/).filter(Boolean).map(Number);
    }
    const kids: number[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const stat = readStat(Number(name));
      if (stat && stat.ppid === pid) kids.push(Number(name));
    }
    return kids;
  },
  signal(pid, signal) {
    try {
      process.kill(pid, signal);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
      throw error;
    }
  },
};

function readStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '?', ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

function inspectProc(pid: number): ProcessInfo | undefined {
  const stat = readStat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return undefined;
  let cmdline: string[] = [];
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
  let environ: Record<string, string> | undefined;
  try {
    environ = {};
    for (const pair of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const eq = pair.indexOf('=');
      if (eq > 0) environ[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  } catch {
    environ = undefined;
  }
  return { pid, ppid: stat.ppid, cmdline, environ };
}

function inspectPs(pid: number): ProcessInfo | undefined {
  const result = spawnSync('ps', ['-o', 'ppid=,stat=,command=', '-p', String(pid)], { encoding: 'utf8' });
  const match = /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec((result.stdout ?? '').trim());
  if (!match || match[2]?.startsWith('Z')) return undefined;
  return { pid, ppid: Number(match[1]), cmdline: (match[3] ?? '').split(' ') };
}

/** The variable of the test hook that pauses a command at a {@link TestPausePoint}. Never set it outside a test. */
export const TEST_PAUSE_VARIABLE = 'BLUEGREEN_TEST_PAUSE_AT';

/** TEST HOOK: a pause at the point named by {@link TEST_PAUSE_VARIABLE}, after saying so, until the process gets SIGUSR2 (or is killed). */
export function testPauseFrom(value: string | undefined, progress: (line: string) => void): TestPause | undefined {
  if (!value) return undefined;
  return async (point: TestPausePoint) => {
    if (point !== value) return;
    progress(`TEST HOOK ${TEST_PAUSE_VARIABLE}=${point}: paused here until this command is killed, or resumed with SIGUSR2.`);
    await new Promise<void>((resume) => {
      const keepAlive = setInterval(() => undefined, 60_000);
      process.once('SIGUSR2', () => {
        clearInterval(keepAlive);
        resume();
      });
    });
  };
}
