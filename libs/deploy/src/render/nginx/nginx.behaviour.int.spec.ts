import { ErrorBody, ROUTER_CONNECTIONS } from '@mlbg/contract';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { Agent, type IncomingHttpHeaders, type Server, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connect } from 'node:net';
import { DEFAULT_LIVE_SLOTS, liveSlotSocket } from '../../spec/sockets';
import { DEFAULT_DEPLOYMENT_SPEC, DeploymentSpec } from '../../spec/deployment-spec';
import { applyOverrides } from '../../spec/overrides';
import { freePort } from '../../effects/real-deps';
import { describeWithBinary, findBinary } from '../../testing/real-tools';
import { renderNginxConf } from './nginx';
import { localNginxSite } from './nginx-site';

const NGINX = findBinary('nginx');
const BODY_LIMIT = 1024;
const VERSIONS = { blue: 'v1.0.0', green: 'v1.1.0' } as const;
const HANG_PATH = '/hang';
type FakeColor = keyof typeof VERSIONS;
/**
 * nginx arms a timer from its cached clock (updated once per event-loop turn), so a timeout may fire
 * that much before the full interval as a client measures it: a few ms, never a whole second.
 */
const NGINX_CLOCK_SLACK_MS = 50;
/** Connections each fake color has accepted. */
const connectionCounts = new Map<FakeColor, number>();

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  json: { color?: string; url?: string; requestId?: string; link?: string; retired?: boolean; connections?: number; code?: string };
  localPort?: number;
}

/**
 * A stand-in for the model service on a unix socket: echoes what it received, names its color,
 * counts the connections nginx opened, and retires a kept connection as the service does: when the
 * link named in the route header no longer points at its socket, it answers `Connection: close`.
 */
async function startColor(color: FakeColor, socketPath: string): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      // A hung color: takes the request and never answers (nginx's read timeout must answer instead).
      if (req.url === HANG_PATH) return;
      const link = req.headers[ROUTER_CONNECTIONS.ROUTE_SOCKET_HEADER];
      const folder = dirname(socketPath);
      // A slot pattern (`live-slot-*.sock`) names every link it stands for.
      const links =
        typeof link !== 'string'
          ? []
          : link.includes('*')
            ? readdirSync(folder).filter((name) => name.startsWith(link.split('*')[0] ?? '') && name.endsWith(link.split('*')[1] ?? ''))
            : [link];
      const retired = links.some((name) => readlinkSync(join(folder, name)) !== `${color}.sock`);
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('X-Color', color);
      res.setHeader('X-Model-Version', VERSIONS[color]);
      if (retired) res.setHeader('Connection', 'close');
      res.end(
        JSON.stringify({
          status: 'ok',
          version: VERSIONS[color],
          color,
          url: req.url,
          requestId: req.headers['x-request-id'],
          link,
          retired,
          connections: connectionCounts.get(color),
        }),
      );
    });
  });
  server.keepAliveTimeout = ROUTER_CONNECTIONS.COLOR_KEEP_ALIVE_TIMEOUT_MS;
  server.on('connection', () => connectionCounts.set(color, (connectionCounts.get(color) ?? 0) + 1));
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
  const started: ChildProcess[] = [];
  let nginxOutput = '';
  const colors = new Map<FakeColor, Server>();

  function call(path: string, options: { method?: string; body?: string; agent?: Agent; port?: number } = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: options.port ?? port, path, method: options.method ?? 'GET', agent: options.agent ?? false },
        (res) => {
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
        },
      );
      req.on('error', reject);
      if (options.body !== undefined) req.setHeader('Content-Type', 'application/json');
      req.end(options.body);
    });
  }

  /** Points a route at a color the way the switch does: a new relative symlink renamed over the old (live: every slot link). */
  function pointAt(link: 'live.sock' | 'preview.sock', color: FakeColor) {
    const links =
      link === 'live.sock' ? [link, ...Array.from({ length: DEFAULT_LIVE_SLOTS }, (_, index) => liveSlotSocket(index))] : [link];
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
    mkdirSync(runDir, { mode: 0o755 });
    for (const color of ['blue', 'green'] as const) colors.set(color, await startColor(color, join(runDir, `${color}.sock`)));
    pointAt('live.sock', 'blue');
    pointAt('preview.sock', 'green');

    port = await freePort();
    await startNginx(applyOverrides(DEFAULT_DEPLOYMENT_SPEC, { bodyLimitBytes: BODY_LIMIT }), port, join(root, 'prefix'));
  }, 20_000);

  /** A real nginx on `listenPort` with the config rendered from `spec`; resolves once it answers. */
  async function startNginx(spec: DeploymentSpec, listenPort: number, prefix: string): Promise<ChildProcess> {
    mkdirSync(prefix, { mode: 0o755 });
    writeFileSync(join(prefix, 'nginx.conf'), renderNginxConf(spec, localNginxSite(spec, { socketDir: runDir, port: listenPort })));
    const child = spawn(NGINX as string, ['-p', `${prefix}/`, '-c', 'nginx.conf', '-g', 'daemon off;'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(child);
    child.stdout?.on('data', (chunk) => (nginxOutput += chunk));
    child.stderr?.on('data', (chunk) => (nginxOutput += chunk));
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await call('/health/live', { port: listenPort });
        return child;
      } catch (error) {
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`nginx did not start: ${(error as Error).message}\n${nginxOutput}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  afterAll(async () => {
    for (const child of started) {
      if (child.exitCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
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

  it('keeps upstream connections on the live route (naming every slot link) and on the preview route (naming its link)', async () => {
    // nginx round-robins over the slots and keeps connections per slot: after one round every slot has one.
    const firstRound = await callEverySlot();
    const secondRound = await callEverySlot();
    expect(firstRound[0]?.json).toMatchObject({ link: 'live-slot-*.sock', retired: false });
    expect(secondRound.at(-1)?.json.connections).toBe(firstRound.at(-1)?.json.connections); // no new connection in the second round
    const preview = await call('/preview/health');
    expect(preview.json).toMatchObject({ color: 'green', link: 'preview.sock', retired: false });
    expect((await call('/preview/health')).json.connections).toBe(preview.json.connections); // the same kept connection
  });

  it('moves live traffic when the live slot links are renamed over, without a reload; each kept connection answers once more with Connection: close, then nginx connects anew', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = (await callEverySlot(agent)).at(-1) as Awaited<ReturnType<typeof call>>;
      await call('/preview/health');
      pointAt('live.sock', 'green');
      pointAt('preview.sock', 'blue');
      // Each slot's kept connection to blue (used just now) carries one more answer, closing it.
      const moving = await callEverySlot(agent);
      expect(moving.filter((answer) => answer.json.color === 'blue').map((answer) => answer.json.retired)).toEqual(
        moving.filter((answer) => answer.json.color === 'blue').map(() => true),
      );
      expect(moving.filter((answer) => answer.json.retired).length).toBeGreaterThan(0);
      const after = await call('/health', { agent });
      expect([before.json.color, after.json.color]).toEqual(['blue', 'green']);
      expect((await callEverySlot(agent)).map((answer) => answer.json.color)).toEqual(
        Array.from({ length: DEFAULT_LIVE_SLOTS }, () => 'green'),
      );
      expect(after.localPort).toBe(before.localPort); // the client's own connection to nginx is untouched
      // The preview route's kept connection to green retires the same way.
      expect((await call('/preview/health')).json).toMatchObject({ color: 'green', retired: true });
      expect((await call('/preview/health')).json.color).toBe('blue');
    } finally {
      agent.destroy();
      pointAt('live.sock', 'blue');
      pointAt('preview.sock', 'green');
      // Retire the kept connections to the other colors, so the next tests start from the links as they are.
      await callEverySlot();
      await call('/preview/health');
    }
  });

  /** One live request per slot, in turn (nginx round-robins over the slots). */
  async function callEverySlot(agent?: Agent): Promise<Awaited<ReturnType<typeof call>>[]> {
    const answers: Awaited<ReturnType<typeof call>>[] = [];
    for (let slot = 0; slot < DEFAULT_LIVE_SLOTS; slot += 1) answers.push(await call('/health', agent ? { agent } : {}));
    return answers;
  }

  /** Sends raw bytes and returns the status and parsed body of nginx's answer. */
  function raw(bytes: string): Promise<{ status: number; type: string; body: unknown }> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk) => (text += chunk));
      socket.on('error', reject);
      socket.on('end', () => {
        const [head = '', body = ''] = text.split('\r\n\r\n');
        try {
          resolve({ status: Number(head.split(' ')[1]), type: /content-type: ([^\r]+)/i.exec(head)?.[1] ?? '', body: JSON.parse(body) });
        } catch {
          reject(new Error(`nginx answered ${JSON.stringify(text)}`));
        }
      });
      socket.end(bytes);
    });
  }

  it.each([
    ['a bad request line', 'GARBAGE\r\n\r\n', 400, 'BAD_REQUEST'],
    ['a URI over the buffer', `GET /${'a'.repeat(9_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414, 'URI_TOO_LONG'],
    [
      'a header over the buffer (nginx 494)',
      `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(9_000)}\r\n\r\n`,
      431,
      'HEADERS_TOO_LARGE',
    ],
    ['two Host headers', 'GET /health HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n', 400, 'BAD_REQUEST'],
    [
      'an internal error URI asked for directly',
      'GET /.mlbg-router-error/BAD_REQUEST HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      404,
      'NOT_FOUND',
    ],
  ])("answers %s with the service's JSON error shape, not nginx's HTML page", async (_, bytes, status, code) => {
    const answer = await raw(bytes);
    expect({ status: answer.status, type: answer.type }).toEqual({ status, type: 'application/json' });
    expect(ErrorBody.parse(answer.body).code).toBe(code);
  });

  it.each(['/metrics', '/preview/metrics'])('keeps %s off the public routes with a JSON 404 that says where to scrape', async (path) => {
    const answer = await call(path);
    expect(answer.status).toBe(404);
    expect(ErrorBody.parse(answer.json)).toMatchObject({ code: 'INTERNAL_ROUTE', detail: expect.stringContaining('own port') });
  });

  it('with a rate limit in the spec, answers a client over it with a JSON 429 (and without one, never)', async () => {
    const limitedPort = await freePort();
    await startNginx(
      DeploymentSpec.parse({ proxy: { rateLimit: { requestsPerSecond: 1, burst: 0 } } }),
      limitedPort,
      join(root, 'prefix-limited'),
    );
    const answers = [];
    for (let count = 0; count < 3; count += 1) answers.push(await call('/health', { port: limitedPort }));
    // startNginx's own readiness probe was this client's first request within the second.
    expect(answers.every((answer) => answer.status === 200 || answer.status === 429)).toBe(true);
    const refused = answers.filter((answer) => answer.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]?.headers['content-type']).toBe('application/json');
    expect(ErrorBody.parse(refused[0]?.json).code).toBe('RATE_LIMITED');
    for (let count = 0; count < 3; count += 1) expect((await call('/health')).status).toBe(200);
  });

  it("answers a color that takes a request and never answers with the JSON 504 after the spec's proxy.timeouts.readSeconds, on the live and the preview route", async () => {
    const readSeconds = 1;
    const timeoutPort = await freePort();
    const spec = DeploymentSpec.parse({ proxy: { timeouts: { readSeconds } } });
    await startNginx(spec, timeoutPort, join(root, 'prefix-timeout'));
    // nginx answers a hung upstream after its read timeout, and a request waits at most the sum of
    // its connect, send and read timeouts (proxy_next_upstream off: one attempt).
    const { connectSeconds, sendSeconds } = spec.proxy.timeouts;
    for (const path of [HANG_PATH, `/preview${HANG_PATH}`]) {
      const began = Date.now();
      const answer = await call(path, { port: timeoutPort });
      const tookMs = Date.now() - began;
      expect({ status: answer.status, type: answer.headers['content-type'] }).toEqual({ status: 504, type: 'application/json' });
      expect(ErrorBody.parse(answer.json)).toMatchObject({
        code: 'UPSTREAM_TIMEOUT',
        detail: expect.stringContaining('did not answer in time'),
      });
      expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
      expect(tookMs).toBeGreaterThanOrEqual(readSeconds * 1000 - NGINX_CLOCK_SLACK_MS);
      expect(tookMs).toBeLessThan((connectSeconds + sendSeconds + readSeconds) * 1000);
    }
    // The rest of that nginx serves as before.
    expect((await call('/health', { port: timeoutPort })).status).toBe(200);
  });

  it('answers a JSON 503 on /preview/ when the idle color is down, never falling back to live', async () => {
    await stop(colors.get('green') as Server);
    const answer = await call('/preview/health');
    expect(answer.status).toBe(503);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(ErrorBody.parse(answer.json)).toMatchObject({
      code: 'PREVIEW_UNAVAILABLE',
      detail: expect.stringContaining('npx nx run deploy:up'),
    });
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
