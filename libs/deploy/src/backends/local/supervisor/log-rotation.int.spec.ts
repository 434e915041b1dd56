import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../effects/real-deps';
import { describeWithBinary, findBinary } from '../../../testing/real-tools';
import { rotateProcessLogs } from './supervisor';
import type { SupervisedProcess } from './supervisor-files';

const NGINX = findBinary('nginx');

describeWithBinary(NGINX, 'nginx')("the supervisor's log rotation with a real nginx", () => {
  let dir: string;
  let nginx: ChildProcess | undefined;
  afterEach(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx?.once('exit', resolve));
      nginx.kill('SIGQUIT');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('renames an access log over its cap and has nginx reopen it: the next requests go to a new access.log', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlbg-rotate-nginx-'));
    // As the stack's runtime folder: nginx's workers (nobody, when the master is root) reopen the logs themselves.
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'temp'));
    const port = await freePort();
    writeFileSync(
      join(dir, 'nginx.conf'),
      [
        'pid nginx.pid;',
        'error_log error.log warn;',
        'events {}',
        'http {',
        '  access_log access.log;',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `  ${name}_temp_path temp;`),
        `  server { listen 127.0.0.1:${port}; location / { return 200 "ok\\n"; } }`,
        '}',
      ].join('\n'),
    );
    nginx = spawn(NGINX as string, ['-p', `${dir}/`, '-c', 'nginx.conf', '-g', 'daemon off;'], { stdio: 'ignore' });
    const get = async (path: string) => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          return (await fetch(`http://127.0.0.1:${port}${path}`)).status;
        } catch (error) {
          if (attempt > 100) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    };
    expect(await get('/before')).toBe(200);
    const spec: SupervisedProcess = {
      name: 'nginx',
      command: NGINX as string,
      args: [],
      cwd: dir,
      env: {},
      logFile: join(dir, 'nginx-output.log'),
      pidFile: join(dir, 'nginx.pid'),
      stopSignal: 'SIGQUIT',
      match: { cmdline: [], env: {} },
      config: '',
      probe: null,
      ownLogs: { files: [join(dir, 'access.log'), join(dir, 'error.log')], reopenSignal: 'SIGUSR1' },
    };
    expect(rotateProcessLogs(spec, nginx.pid ?? null, 10)).toEqual({ output: false, own: [join(dir, 'access.log')] });
    // nginx reopens on SIGUSR1: a new access.log appears for the next request.
    for (let waited = 0; !existsSync(join(dir, 'access.log')) && waited < 5_000; waited += 50)
      await new Promise((resolve) => setTimeout(resolve, 50));
    // Its worker reopens a moment after the master: ask until a request lands in the new file.
    const fresh = () => readFileSync(join(dir, 'access.log'), 'utf8');
    for (let attempt = 0; !fresh().includes('GET /after') && attempt < 100; attempt += 1) {
      expect(await get('/after')).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(fresh()).toContain('GET /after');
    expect(fresh()).not.toContain('GET /before');
    expect(readFileSync(join(dir, 'access.log.1'), 'utf8')).toContain('GET /before');
  }, 30_000);
});
