import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { type Server, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RELAY_CAPTURE_PATH,
  RELAY_CONFIG_PATH,
  RELAY_STATUS_PATH,
  type RelayStatus,
  createRelay,
  isPrediction,
  listenRelay,
} from './relay';

function listen(server: Server, socket: string): Promise<void> {
  return new Promise((resolve) => server.listen(socket, resolve));
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function call(
  socketPath: string,
  method: string,
  path: string,
  body = '',
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method,
        path,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function until(check: () => Promise<boolean>, what: string, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('shadow relay (real sockets, a fake idle color)', () => {
  let dir: string;
  const servers: Server[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlbg-relay-'));
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map(close));
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (
    options: { percent?: number; queueSize?: number; concurrency?: number; random?: () => number; replicas?: number; stateFile?: string },
    idle: (seen: { url: string; headers: Record<string, unknown>; body: string; replica: number }) => 'answer' | 'hang',
  ) => {
    const targets = Array.from({ length: options.replicas ?? 1 }, (_, index) =>
      join(dir, index === 0 ? 'idle.sock' : `idle-${index + 1}.sock`),
    );
    for (const [index, target] of targets.entries()) {
      const fake = createServer((req, res) => {
        let body = '';
        req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        req.on('end', () => {
          if (idle({ url: req.url ?? '', headers: req.headers, body, replica: index + 1 }) === 'answer') res.writeHead(200).end('{}');
        });
      });
      await listen(fake, target);
      servers.push(fake);
    }
    const relay = createRelay({
      targetSockets: targets,
      percent: options.percent ?? 100,
      queueSize: options.queueSize ?? 10,
      concurrency: options.concurrency ?? 2,
      timeoutMs: 60_000,
      captureDir: join(dir, 'captures'),
      ...(options.random ? { random: options.random } : {}),
      ...(options.stateFile ? { stateFile: options.stateFile } : {}),
    });
    const sockets = { mirror: join(dir, 'relay.sock'), control: join(dir, 'control', 'relay-control.sock') };
    await listenRelay(relay, sockets);
    servers.push(relay.mirror, relay.control);
    return { socket: sockets.mirror, control: sockets.control, status: relay.status };
  };

  it('answers 204 at once, then forwards the body with its request id and shadow header', async () => {
    const seen: { url: string; headers: Record<string, unknown>; body: string }[] = [];
    const relay = await start({}, (request) => (seen.push(request), 'answer'));
    const answer = await call(relay.socket, 'POST', '/predict', '{"features":[[1]]}', {
      'x-request-id': 'r-1',
      'x-mlbg-shadow': '1',
      cookie: 'not forwarded',
    });
    expect(answer.status).toBe(204);
    await until(async () => relay.status().forwarded === 1, 'the copy to be forwarded');
    expect(seen).toEqual([
      {
        url: '/predict',
        body: '{"features":[[1]]}',
        headers: expect.objectContaining({ 'x-request-id': 'r-1', 'x-mlbg-shadow': '1' }),
        replica: 1,
      },
    ]);
    expect(seen[0]?.headers['cookie']).toBeUndefined();
  });

  it('still answers at once when the idle color never answers; a full queue drops and counts', async () => {
    const relay = await start({ queueSize: 3, concurrency: 1 }, () => 'hang');
    for (let i = 0; i < 10; i += 1) expect((await call(relay.socket, 'POST', '/predict', '{"features":[[1]]}')).status).toBe(204);
    // One copy in flight (hanging), three queued, six dropped: bounded by the queue, whatever the idle color does.
    expect(relay.status()).toMatchObject({ received: 10, inFlight: 1, queued: 3, dropped: 6, forwarded: 0 });
  });

  it('forwards only the sampled share, and takes a new percent on its control route', async () => {
    let draw = 0;
    const draws = [0.1, 0.3, 0.5, 0.7, 0.9];
    const relay = await start({ percent: 40, random: () => draws[draw++ % draws.length] ?? 0 }, () => 'answer');
    for (let i = 0; i < 5; i += 1) await call(relay.socket, 'POST', '/predict', '{}');
    await until(async () => relay.status().forwarded === 2, 'two copies forwarded');
    expect(relay.status()).toMatchObject({ received: 5, sampledOut: 3 });
    const changed = await call(relay.control, 'POST', RELAY_CONFIG_PATH, '{"percent": 100}');
    expect(JSON.parse(changed.body)).toMatchObject({ percent: 100 });
    expect((await call(relay.control, 'POST', RELAY_CONFIG_PATH, '{"percent": 101}')).status).toBe(422);
    const status = JSON.parse((await call(relay.control, 'GET', RELAY_STATUS_PATH)).body) as RelayStatus;
    expect(status).toMatchObject({ percent: 100, received: 5 });
  });

  it('keeps the percent set on its control route in its state file: started again on it (a restart by its policy), it forwards that share, not the one it was started with', async () => {
    const stateFile = join(dir, 'relay-state.json');
    const first = await start({ percent: 100, stateFile }, () => 'answer');
    expect(first.status().percent).toBe(100);
    expect((await call(first.control, 'POST', RELAY_CONFIG_PATH, '{"percent": 25}')).status).toBe(200);
    // A refused percent changes nothing, on disk either.
    expect((await call(first.control, 'POST', RELAY_CONFIG_PATH, '{"percent": -1}')).status).toBe(422);
    await Promise.all(servers.splice(0).map(close));
    const again = await start({ percent: 100, stateFile }, () => 'answer');
    expect(again.status()).toMatchObject({ percent: 25, lastError: null });
  });

  it('starts with the percent it was given, and says why, when its state file can not be read as one', async () => {
    const stateFile = join(dir, 'relay-state.json');
    writeFileSync(stateFile, '{"percent": "half"}');
    const relay = await start({ percent: 60, stateFile }, () => 'answer');
    expect(relay.status()).toMatchObject({ percent: 60, lastError: expect.stringContaining(stateFile) });
  });

  it('counts a failed copy (the idle color is gone) and keeps answering', async () => {
    const relay = await start({}, () => 'answer');
    await close(servers[0] as Server);
    rmSync(join(dir, 'idle.sock'), { force: true });
    expect((await call(relay.socket, 'POST', '/predict', '{}')).status).toBe(204);
    await until(async () => relay.status().failed === 1, 'the failure to be counted');
    expect(relay.status().lastError).toMatch(/ENOENT/);
  });

  it("takes the idle color's replicas in turn, and passes a copy a gone replica refuses on to the next", async () => {
    const seen: number[] = [];
    const relay = await start({ replicas: 2, concurrency: 1 }, (request) => (seen.push(request.replica), 'answer'));
    for (let i = 0; i < 4; i += 1) await call(relay.socket, 'POST', '/predict', '{}');
    await until(async () => relay.status().forwarded === 4, 'four copies forwarded');
    expect(seen).toEqual([1, 2, 1, 2]);
    await close(servers[0] as Server);
    rmSync(join(dir, 'idle.sock'), { force: true });
    for (let i = 0; i < 4; i += 1) await call(relay.socket, 'POST', '/predict', '{}');
    await until(async () => relay.status().forwarded === 8, 'four more copies forwarded');
    expect(seen.slice(4)).toEqual([2, 2, 2, 2]);
    expect(relay.status().failed).toBe(0);
  });

  describe('who may drive it (the control routes) and where it may write', () => {
    const startBoth = async (options: { maxBodyBytes?: number } = {}) => {
      const target = join(dir, 'idle.sock');
      const fake = createServer((_req, res) => res.writeHead(200).end('{}'));
      await listen(fake, target);
      const captureDir = join(dir, 'state', 'captures');
      const relay = createRelay({
        targetSockets: [target],
        percent: 100,
        queueSize: 10,
        concurrency: 1,
        timeoutMs: 60_000,
        captureDir,
        ...options,
      });
      const sockets = { mirror: join(dir, 'relay.sock'), control: join(dir, 'control', 'relay-control.sock') };
      await listenRelay(relay, sockets);
      servers.push(fake, relay.mirror, relay.control);
      return { ...sockets, captureDir, status: relay.status };
    };

    it("nginx's socket (0666: its workers may be nobody) serves no control route; the control socket is 0600 in a 0700 folder", async () => {
      const relay = await startBoth();
      expect(statSync(relay.mirror).mode & 0o777).toBe(0o666);
      for (const [method, path, body] of [
        ['GET', RELAY_STATUS_PATH, ''],
        ['POST', RELAY_CONFIG_PATH, '{"percent": 0}'],
        ['POST', RELAY_CAPTURE_PATH, JSON.stringify({ file: join(dir, 'planted.jsonl'), name: 'planted.jsonl', n: 5 })],
      ] as const) {
        expect({ path, status: (await call(relay.mirror, method, path, body)).status }).toEqual({ path, status: 404 });
      }
      expect(relay.status()).toMatchObject({ percent: 100, capture: null });
      expect(existsSync(join(dir, 'planted.jsonl'))).toBe(false);

      expect(statSync(relay.control).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'control')).mode & 0o777).toBe(0o700);
      expect((await call(relay.control, 'GET', RELAY_STATUS_PATH)).status).toBe(200);
    });

    it('writes a capture only to a new file of its own folder: no path, no existing file, no link followed', async () => {
      const relay = await startBoth();
      const outside = join(dir, 'outside.jsonl');
      const refused = async (body: object) => (await call(relay.control, 'POST', RELAY_CAPTURE_PATH, JSON.stringify(body))).status;
      // The API of 545c9de: any path the caller named.
      expect(await refused({ file: outside, n: 5 })).toBe(422);
      expect(await refused({ name: '../outside.jsonl', n: 5 })).toBe(422);
      expect(await refused({ name: outside, n: 5 })).toBe(422);
      expect(existsSync(outside)).toBe(false);

      // A link planted where the capture will go is not followed (and nothing is written through it).
      writeFileSync(outside, 'precious\n');
      mkdirSync(relay.captureDir, { recursive: true, mode: 0o700 });
      symlinkSync(outside, join(relay.captureDir, 'planted.jsonl'));
      expect(await refused({ name: 'planted.jsonl', n: 5 })).toBe(409);
      expect(readFileSync(outside, 'utf8')).toBe('precious\n');

      const started = await call(relay.control, 'POST', RELAY_CAPTURE_PATH, JSON.stringify({ name: 'c1.jsonl', n: 2 }));
      expect(started.status).toBe(200);
      expect(await refused({ name: 'c1.jsonl', n: 2 })).toBe(409);
      await call(relay.mirror, 'POST', '/predict', '{"features":[[1]]}');
      await call(relay.mirror, 'POST', '/predict', '{"features":[[2]]}');
      await until(async () => relay.status().capture?.active === false, 'the capture to be written and closed');
      const file = join(relay.captureDir, 'c1.jsonl');
      expect(relay.status().capture).toMatchObject({ file, n: 2, captured: 2 });
      expect(readFileSync(file, 'utf8')).toBe('{"features":[[1]]}\n{"features":[[2]]}\n');
      expect(statSync(file).mode & 0o777).toBe(0o600);
    });

    it('holds no body over the limit (413, counted as dropped), and bounds what a control call may send', async () => {
      const relay = await startBoth({ maxBodyBytes: 1024 });
      const big = JSON.stringify({ features: [[1]], pad: 'x'.repeat(4096) });
      expect((await call(relay.mirror, 'POST', '/predict', big)).status).toBe(413);
      expect(relay.status()).toMatchObject({ received: 1, dropped: 1, queued: 0, forwarded: 0 });
      expect(relay.status().lastError).toMatch(/over 1024 bytes/);
      expect((await call(relay.control, 'POST', RELAY_CONFIG_PATH, JSON.stringify({ percent: 5, pad: 'x'.repeat(100_000) }))).status).toBe(
        413,
      );
      expect(relay.status().percent).toBe(100);
    });
  });

  it('as on Kubernetes (loopback TCP, a Gateway mirror): forwards to a URL, marks the copy as shadow, answers and drops what is not a prediction', async () => {
    const seen: { url: string; headers: Record<string, unknown> }[] = [];
    const fake = createServer((req, res) => {
      req.resume().on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers });
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const { port } = fake.address() as { port: number };
    const relay = createRelay({
      targetSockets: [`http://127.0.0.1:${port}`],
      percent: 100,
      queueSize: 10,
      concurrency: 2,
      timeoutMs: 60_000,
      captureDir: join(dir, 'captures'),
      statusOnMirror: true,
    });
    const socket = join(dir, 'relay.sock');
    await listen(relay.mirror, socket);
    servers.push(fake, relay.mirror);
    expect((await call(socket, 'POST', '/predict', '{"features":[[1]]}', { 'x-request-id': 'gw-1' })).status).toBe(204);
    expect((await call(socket, 'POST', '/v2/models/model/infer', '{}')).status).toBe(204);
    expect((await call(socket, 'GET', '/v2/models/model')).status).toBe(204);
    expect((await call(socket, 'POST', '/v2/models/model/ready')).status).toBe(204);
    await until(async () => relay.status().forwarded === 2, 'the two predictions to be forwarded');
    expect(seen.map((copy) => [copy.url, copy.headers['x-mlbg-shadow']])).toEqual([
      ['/predict', 'mirror'],
      ['/v2/models/model/infer', 'mirror'],
    ]);
    expect(seen[0]?.headers['x-request-id']).toBe('gw-1');
    expect(relay.status()).toMatchObject({ received: 2, forwarded: 2, targetSockets: [`http://127.0.0.1:${port}`] });
    // There (no control socket) the counters are read on the copies' way in, and nothing can be changed.
    expect((await call(socket, 'GET', RELAY_STATUS_PATH)).status).toBe(200);
    expect((await call(socket, 'POST', RELAY_CONFIG_PATH, '{"percent": 0}')).status).toBe(404);
    expect((await call(socket, 'POST', RELAY_CAPTURE_PATH, '{"name": "c.jsonl", "n": 1}')).status).toBe(404);
    expect(relay.status()).toMatchObject({ percent: 100, capture: null });
  });

  it('knows a prediction from the other requests a Gateway mirrors', () => {
    expect(
      ['/predict', '/v2/models/m/infer', '/v2/models/m/versions/2/infer', '/predict?x=1'].map((path) => isPrediction('POST', path)),
    ).toEqual([true, true, true, true]);
    expect([isPrediction('GET', '/predict'), isPrediction('POST', '/v2/models/m'), isPrediction('POST', '/health')]).toEqual([
      false,
      false,
      false,
    ]);
  });
});
