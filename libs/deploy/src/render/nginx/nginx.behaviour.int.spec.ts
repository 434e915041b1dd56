import { ErrorBody, ROUTER_CONNECTIONS } from '@mlbg/contract';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { Agent, type IncomingHttpHeaders, type Server, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connect } from 'node:net';
import { DEFAULT_LIVE_SLOTS, colorReplicaSocket, liveSlotLink } from '../../spec/sockets';
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
/** Replica 1 of each color resets the connection of a request to this path without answering (a crash mid-request). */
const RESET_PATH = '/reset';
const REPLICAS = DEFAULT_DEPLOYMENT_SPEC.replicas.perColor;
/** Enough requests that every slot is taken at least twice (its upstream then holds a connection to each replica). */
const SPREAD = 400;
type FakeColor = keyof typeof VERSIONS;
/**
 * nginx arms a timer from its cached clock (updated once per event-loop turn), so a timeout may fire
 * that much before the full interval as a client measures it: a few ms, never a whole second.
 */
const NGINX_CLOCK_SLACK_MS = 50;
/** Connections each fake replica (`blue-1`) has accepted. */
const connectionCounts = new Map<string, number>();

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  json: {
    color?: string;
    replica?: number;
    url?: string;
    requestId?: string;
    link?: string;
    linkTarget?: string;
    retired?: boolean;
    code?: string;
  };
  localPort?: number;
}

/**
 * A stand-in for one replica of the model service on a unix socket in its color's folder: echoes
 * what it received, names its color and replica, counts the connections nginx opened, and retires a
 * kept connection as the service does: when the link named in the route header (beside the color
 * folders) no longer points at its color, it answers `Connection: close`.
 */
async function startReplica(color: FakeColor, replica: number, socketPath: string): Promise<Server> {
  const name = `${color}-${replica}`;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      // A hung color: takes the request and never answers (nginx's read timeout must answer instead).
      if (req.url === HANG_PATH) return;
      if (req.url === RESET_PATH && replica === 1) return req.socket.destroy();
      const link = req.headers[ROUTER_CONNECTIONS.ROUTE_SOCKET_HEADER];
      const linkTarget = typeof link === 'string' ? readlinkSync(join(dirname(dirname(socketPath)), link)) : undefined;
      const retired = linkTarget !== undefined && linkTarget !== color;
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('X-Color', color);
      res.setHeader('X-Model-Version', VERSIONS[color]);
      if (retired) res.setHeader('Connection', 'close');
      res.end(
        JSON.stringify({
          status: 'ok',
          version: VERSIONS[color],
          color,
          replica,
          url: req.url,
          requestId: req.headers['x-request-id'],
          link,
          linkTarget,
          retired,
        }),
      );
    });
  });
  server.keepAliveTimeout = ROUTER_CONNECTIONS.COLOR_KEEP_ALIVE_TIMEOUT_MS;
  server.on('connection', () => connectionCounts.set(name, (connectionCounts.get(name) ?? 0) + 1));
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  chmodSync(socketPath, 0o666); // nginx workers run as nobody when the master is root
  return server;
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Connections nginx opened to every replica so far. */
function connectionsSoFar(): number {
  return [...connectionCounts.values()].reduce((sum, count) => sum + count, 0);
}

describeWithBinary(NGINX, 'nginx')('real nginx in front of two colors of replicas on unix sockets', () => {
  let root: string;
  let runDir: string;
  let port: number;
  const started: ChildProcess[] = [];
  let nginxOutput = '';
  const replicas = new Map<string, Server>();
  const replicaPath = (color: FakeColor, replica: number) => join(runDir, colorReplicaSocket(color, replica));

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

  /** `count` requests one after the other. */
  async function calls(count: number, path: string, options: Parameters<typeof call>[1] = {}): Promise<Answer[]> {
    const answers: Answer[] = [];
    for (let index = 0; index < count; index += 1) answers.push(await call(path, options));
    return answers;
  }

  /** Points a route at a color's folder the way the switch does: a new relative symlink renamed over the old (live: every slot link). */
  function pointAt(
    link: 'live' | 'preview',
    color: FakeColor,
    slots: readonly number[] = Array.from({ length: DEFAULT_LIVE_SLOTS }, (_, index) => index),
  ) {
    const links = link === 'live' ? [link, ...slots.map((index) => liveSlotLink(index))] : [link];
    for (const name of links) {
      const next = join(runDir, `${name}.next`);
      symlinkSync(color, next);
      renameSync(next, join(runDir, name));
    }
  }

  async function startAllReplicas(): Promise<void> {
    for (const color of ['blue', 'green'] as const) {
      for (let replica = 1; replica <= REPLICAS; replica += 1) {
        if (!replicas.get(`${color}-${replica}`)?.listening)
          replicas.set(`${color}-${replica}`, await startReplica(color, replica, replicaPath(color, replica)));
      }
    }
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mlbg-nginx-run-'));
    chmodSync(root, 0o755); // traversable by nginx's workers
    runDir = join(root, 'run');
    mkdirSync(runDir, { mode: 0o755 });
    for (const color of ['blue', 'green'] as const) mkdirSync(join(runDir, color), { mode: 0o755 });
    await startAllReplicas();
    pointAt('live', 'blue');
    pointAt('preview', 'green');

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
    for (const server of replicas.values()) if (server.listening) await stop(server);
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

  it('spreads live requests over every slot link and every replica, each request naming its own slot, and keeps the connections (live and preview)', async () => {
    const first = await calls(SPREAD, '/health');
    const opened = connectionsSoFar();
    const second = await calls(SPREAD, '/health');
    expect(new Set(first.map((answer) => answer.json.link))).toEqual(
      new Set(Array.from({ length: DEFAULT_LIVE_SLOTS }, (_, index) => liveSlotLink(index))),
    );
    expect(new Set(first.map((answer) => `${answer.json.color}-${answer.json.replica}`))).toEqual(
      new Set(Array.from({ length: REPLICAS }, (_, index) => `blue-${index + 1}`)),
    );
    expect(first.every((answer) => answer.json.retired === false)).toBe(true);
    expect(second.every((answer) => answer.json.color === 'blue')).toBe(true);
    expect(connectionsSoFar()).toBe(opened); // no new connection in the second round
    const preview = await calls(2 * REPLICAS, '/preview/health');
    expect(preview[0]?.json).toMatchObject({ color: 'green', link: 'preview', retired: false });
    const before = connectionsSoFar();
    await calls(2 * REPLICAS, '/preview/health');
    expect(connectionsSoFar()).toBe(before); // the same kept connections
  }, 60_000);

  it('moves live traffic when the live slot links are renamed over, without a reload; each kept connection answers once more with Connection: close, then nginx connects anew', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = await call('/health', { agent });
      await calls(SPREAD, '/health', { agent });
      await call('/preview/health');
      pointAt('live', 'green');
      pointAt('preview', 'blue');
      // Each slot's kept connections to blue (used just now) carry one more answer each, closing them.
      const moving = await calls(SPREAD, '/health', { agent });
      const fromBlue = moving.filter((answer) => answer.json.color === 'blue');
      expect(fromBlue.every((answer) => answer.json.retired === true)).toBe(true);
      expect(fromBlue.length).toBeGreaterThan(0);
      expect(fromBlue.length).toBeLessThanOrEqual(DEFAULT_LIVE_SLOTS * REPLICAS);
      const after = await calls(SPREAD, '/health', { agent });
      expect(after.every((answer) => answer.json.color === 'green')).toBe(true);
      expect(after.at(-1)?.localPort).toBe(before.localPort); // the client's own connection to nginx is untouched
      // The preview route's kept connections to green retire the same way.
      const preview = await calls(2 * REPLICAS + 1, '/preview/health');
      expect(preview.filter((answer) => answer.json.color === 'green').every((answer) => answer.json.retired)).toBe(true);
      expect(preview.at(-1)?.json.color).toBe('blue');
    } finally {
      agent.destroy();
      pointAt('live', 'blue');
      pointAt('preview', 'green');
      // Retire the kept connections to the other colors, so the next tests start from the links as they are.
      await calls(SPREAD, '/health');
      await calls(2 * REPLICAS + 1, '/preview/health');
    }
  }, 60_000);

  it('passes a request whose replica is gone, or resets it mid-request (a POST too), to a sibling of the same color: every answer comes from the color its slot points at', async () => {
    // A canary split: a quarter of the slots on green, so both colors serve live requests.
    const greenSlots = [0, 5, 10, 15];
    pointAt('live', 'green', greenSlots);
    try {
      // The kept connections to blue on the moved slots answer once more each, then retire (the test above).
      await calls(SPREAD, '/health');
      await stop(replicas.get('blue-1') as Server);
      // A crashed process leaves its socket file: a connect is refused, nothing listens.
      spawnSync(process.execPath, [
        '-e',
        `require('net').createServer().listen(${JSON.stringify(replicaPath('blue', 1))}, () => process.kill(process.pid, 'SIGKILL'))`,
      ]);
      const answers = await calls(SPREAD, '/predict', { method: 'POST', body: '{"features":[[1]]}' });
      expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
      expect(answers.filter((answer) => answer.json.linkTarget !== answer.json.color)).toEqual([]);
      expect(new Set(answers.map((answer) => `${answer.json.color}-${answer.json.replica}`))).toEqual(
        new Set(['green-1', 'green-2', ...Array.from({ length: REPLICAS - 1 }, (_, index) => `blue-${index + 2}`)]),
      );
      rmSync(replicaPath('blue', 1), { force: true });
      await startAllReplicas();
      // Replica 1 of each color resets every request to RESET_PATH: each is answered by replica 2 of the same color.
      const reset = await calls(SPREAD / 4, RESET_PATH, { method: 'POST', body: '{}' });
      expect(reset.filter((answer) => answer.status !== 200 || answer.json.replica === 1)).toEqual([]);
      expect(reset.filter((answer) => answer.json.linkTarget !== answer.json.color)).toEqual([]);
    } finally {
      pointAt('live', 'blue');
      if (!replicas.get('blue-1')?.listening) rmSync(replicaPath('blue', 1), { force: true });
      await startAllReplicas();
      await calls(SPREAD, '/health');
    }
  }, 60_000);

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

  // nginx decodes and normalises the URI before it matches a location, so no other spelling of an
  // internal route reaches a color (the color refuses them too: route-spelling.ts in the model service).
  it.each([
    '/%6detrics',
    '/%6Detrics',
    '/metric%73',
    '//metrics',
    '/./metrics',
    '/x/../metrics',
    '/x/%2e%2e/metrics',
    '/%61dmin/predictions',
    '/admin%2Fpredictions',
    '/admin%2fpredictions',
    '//admin/predictions',
    '/admin//predictions',
    '/x/../admin/predictions',
    '/preview/%6detrics',
    '/preview/%61dmin/predictions',
    '/%70review/admin/predictions',
    '/preview//metrics',
    '/preview/x/../metrics',
  ])('keeps %s, another spelling of an internal route, off the public routes with the same JSON 404', async (path) => {
    const answer = await call(path);
    expect({ path, status: answer.status, code: answer.json.code, reachedColor: answer.json.color }).toEqual({
      path,
      status: 404,
      code: 'INTERNAL_ROUTE',
      reachedColor: undefined,
    });
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
    // nginx answers a hung upstream after its read timeout; it tries one more replica of the same
    // color (it hangs too), so a request waits at most the retry's tries times the sum of the timeouts.
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
      expect(tookMs).toBeLessThan(spec.proxy.retry.tries * (connectSeconds + sendSeconds + readSeconds) * 1000);
    }
    // The rest of that nginx serves as before.
    expect((await call('/health', { port: timeoutPort })).status).toBe(200);
  });

  it('answers a JSON 503 on / when every replica of the live color is down, never falling back to the idle color', async () => {
    for (let replica = 1; replica <= REPLICAS; replica += 1) await stop(replicas.get(`blue-${replica}`) as Server);
    const answer = await call('/predict', { method: 'POST', body: '{"features":[[1]]}' });
    expect(answer.status).toBe(503);
    expect(ErrorBody.parse(answer.json).code).toBe('LIVE_UNAVAILABLE');
    expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect((await call('/preview/health')).json.color).toBe('green');
  });

  it('answers a JSON 503 on /preview/ when the idle color is down, never falling back to live', async () => {
    for (let replica = 1; replica <= REPLICAS; replica += 1) await stop(replicas.get(`green-${replica}`) as Server);
    const answer = await call('/preview/health');
    expect(answer.status).toBe(503);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(ErrorBody.parse(answer.json)).toMatchObject({
      code: 'PREVIEW_UNAVAILABLE',
      detail: expect.stringContaining('npx nx run deploy:up'),
    });
  });
});
