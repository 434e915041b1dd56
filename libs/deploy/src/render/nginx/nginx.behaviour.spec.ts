import { ErrorBody } from '@mlbg/contract';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { Agent, type IncomingHttpHeaders, type Server, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LIVE_SLOTS, liveSlotSocket } from '../../spec/sockets';
import { DEFAULT_DEPLOYMENT_SPEC } from '../../spec/deployment-spec';
import { applyOverrides } from '../../spec/overrides';
import { freePort } from '../../effects/real-deps';
import { describeWithBinary, findBinary } from '../../testing/real-tools';
import { renderNginxConf } from './nginx';
import { localNginxSite } from './nginx-site';

const NGINX = findBinary('nginx');
const BODY_LIMIT = 1024;
const VERSIONS = { blue: 'v1.0.0', green: 'v1.1.0' } as const;
type FakeColor = keyof typeof VERSIONS;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  json: { color?: string; url?: string; requestId?: string };
  localPort?: number;
}

/** A stand-in for the model service on a unix socket: echoes what it received, names its color. */
async function startColor(color: FakeColor, socketPath: string): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('X-Color', color);
      res.setHeader('X-Model-Version', VERSIONS[color]);
      res.end(JSON.stringify({ status: 'ok', version: VERSIONS[color], color, url: req.url, requestId: req.headers['x-request-id'] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  chmodSync(socketPath, 0o666); // nginx workers run as nobody when the master is root
  return server;
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describeWithBinary(NGINX, 'nginx')('real nginx in front of two colors on unix sockets', () => {
  let root: string;
  let runDir: string;
  let port: number;
  let nginx: ChildProcess;
  let nginxOutput = '';
  const colors = new Map<FakeColor, Server>();

  function call(path: string, options: { method?: string; body?: string; agent?: Agent } = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', agent: options.agent ?? false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          const answer = { status: res.statusCode ?? 0, headers: res.headers, localPort: res.socket?.localPort };
          try {
            resolve({ ...answer, json: JSON.parse(text) });
          } catch {
            reject(new Error(`${path} answered ${res.statusCode} with a body that is not JSON: ${text}`));
          }
        });
      });
      req.on('error', reject);
      if (options.body !== undefined) req.setHeader('Content-Type', 'application/json');
      req.end(options.body);
    });
  }

  /** Points a route at a color the way the switch does: a new relative symlink renamed over the old (live: every slot link). */
  function pointAt(link: 'live.sock' | 'preview.sock', color: FakeColor) {
    const links = link === 'live.sock' ? [link, ...Array.from({ length: DEFAULT_LIVE_SLOTS }, (_, index) => liveSlotSocket(index))] : [link];
    for (const name of links) {
      const next = join(runDir, `${name}.next`);
      symlinkSync(`${color}.sock`, next);
      renameSync(next, join(runDir, name));
    }
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mlbg-nginx-run-'));
    chmodSync(root, 0o755); // traversable by nginx's workers
    runDir = join(root, 'run');
    const prefix = join(root, 'prefix');
    mkdirSync(runDir, { mode: 0o755 });
    mkdirSync(prefix, { mode: 0o755 });
    for (const color of ['blue', 'green'] as const) colors.set(color, await startColor(color, join(runDir, `${color}.sock`)));
    pointAt('live.sock', 'blue');
    pointAt('preview.sock', 'green');

    port = await freePort();
    const spec = applyOverrides(DEFAULT_DEPLOYMENT_SPEC, { bodyLimitBytes: BODY_LIMIT });
    writeFileSync(join(prefix, 'nginx.conf'), renderNginxConf(spec, localNginxSite(spec, { socketDir: runDir, port })));
    nginx = spawn(NGINX as string, ['-p', `${prefix}/`, '-c', 'nginx.conf', '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
    nginx.stdout?.on('data', (chunk) => (nginxOutput += chunk));
    nginx.stderr?.on('data', (chunk) => (nginxOutput += chunk));

    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await call('/health/live');
        return;
      } catch (error) {
        if (nginx.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start: ${(error as Error).message}\n${nginxOutput}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }, 20_000);

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGTERM');
      await exited;
    }
    for (const server of colors.values()) if (server.listening) await stop(server);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('sends / to the live color, passing its headers through and forwarding a request id', async () => {
    const answer = await call('/health');
    expect(answer).toMatchObject({ status: 200, json: { color: 'blue', url: '/health' } });
    expect(answer.headers['x-color']).toBe('blue');
    expect(answer.headers['x-model-version']).toBe('v1.0.0');
    expect(answer.json.requestId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('sends /preview/ to the idle color with the prefix stripped', async () => {
    const answer = await call('/preview/health?probe=1');
    expect(answer).toMatchObject({ status: 200, json: { color: 'green', url: '/health?probe=1' } });
    expect(answer.headers['x-color']).toBe('green');
  });

  it('answers a body over the limit with the service-shaped JSON 413', async () => {
    const answer = await call('/predict', { method: 'POST', body: JSON.stringify({ features: [['x'.repeat(BODY_LIMIT)]] }) });
    expect(answer.status).toBe(413);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(ErrorBody.parse(answer.json).code).toBe('BODY_TOO_LARGE');
  });

  it('moves live traffic when the live slot links are renamed over, without a reload, even on a kept-alive client connection', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = await call('/health', { agent });
      pointAt('live.sock', 'green');
      pointAt('preview.sock', 'blue');
      const after = await call('/health', { agent });
      expect([before.json.color, after.json.color]).toEqual(['blue', 'green']);
      expect(after.localPort).toBe(before.localPort);
      expect((await call('/preview/health')).json.color).toBe('blue');
    } finally {
      agent.destroy();
      pointAt('live.sock', 'blue');
      pointAt('preview.sock', 'green');
    }
  });

  it('answers a JSON 503 on /preview/ when the idle color is down, never falling back to live', async () => {
    await stop(colors.get('green') as Server);
    const answer = await call('/preview/health');
    expect(answer.status).toBe(503);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(ErrorBody.parse(answer.json)).toMatchObject({ code: 'PREVIEW_UNAVAILABLE', detail: expect.stringContaining('npx nx run deploy:up') });
    expect((await call('/health')).json.color).toBe('blue');
  });

  it('answers a JSON 503 on / when the live color is down, not an HTML 502', async () => {
    await stop(colors.get('blue') as Server);
    const answer = await call('/predict', { method: 'POST', body: '{"features":[[1]]}' });
    expect(answer.status).toBe(503);
    expect(ErrorBody.parse(answer.json).code).toBe('LIVE_UNAVAILABLE');
    expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
  });
});
