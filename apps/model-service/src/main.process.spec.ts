import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { onnx } from 'onnx-proto';
import { WORKSPACE_ROOT } from './testing/test-app';

/** The built service, exactly as `deploy:up` and the Dockerfile run it (`nx build` runs before these tests). */
const MAIN = resolve(WORKSPACE_ROOT, 'dist/apps/model-service/src/main.js');

interface Started {
  child: ChildProcess;
  url: string;
  logs: Record<string, unknown>[];
  exited: Promise<number | null>;
}

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], { cwd: WORKSPACE_ROOT, env: { PATH: process.env['PATH'] ?? '', ...env } });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  return { child, exited, stderr: () => stderr };
}

/** Starts the service on a free port and waits for its "listening" log line. */
function start(env: Record<string, string>): Promise<Started> {
  const { child, exited } = run({ PORT: '0', HOST: '127.0.0.1', ...env });
  const logs: Record<string, unknown>[] = [];
  return new Promise((resolveStarted, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const entry = JSON.parse(line);
      logs.push(entry);
      if (entry.msg === 'listening') resolveStarted({ child, url: entry.url, logs, exited });
    });
    void exited.then((code) => reject(new Error(`the service exited with ${code} before listening`)));
  });
}

function get(options: { url?: string; socketPath?: string; path: string }): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const target = options.url ? new URL(options.path, options.url) : `http://localhost${options.path}`;
    const req = request(target, { socketPath: options.socketPath, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

function post(url: string, path: string, body: string, agent: Agent): Promise<number> {
  return new Promise((done, fail) => {
    const req = request(
      new URL(path, url),
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode ?? 0));
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

describe('the built service as a process', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'model-service-process-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it.each([
    [{ PORT: 'abc' }, /^model-service: invalid configuration: PORT="abc": must be a TCP port number/],
    [{ MODEL_PATH: 'models/nope/model.onnx' }, /^model-service: model file not found: models\/nope\/model\.onnx\. Set MODEL_PATH/],
    [{ MODEL_PATH: 'package.json' }, /^model-service: .*package\.json/],
  ])('stops at start-up with one line and exit 1 for %j', async (env, message) => {
    const { exited, stderr } = run(env);
    expect(await exited).toBe(1);
    const lines = stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });

  it('stops at start-up with one line that says what it saw and what it supports, for a model it can not serve', async () => {
    const value = {
      name: 'x',
      type: {
        tensorType: {
          elemType: onnx.TensorProto.DataType.FLOAT,
          shape: { dim: [{ dimParam: 'N' }, { dimValue: 3 }, { dimValue: 8 }, { dimValue: 8 }] },
        },
      },
    };
    const image = join(scratch, 'image.onnx');
    writeFileSync(
      image,
      onnx.ModelProto.encode({
        irVersion: 8,
        opsetImport: [{ domain: '', version: 13 }],
        graph: {
          name: 'g',
          node: [{ opType: 'Identity', input: ['x'], output: ['y'] }],
          input: [value],
          output: [{ ...value, name: 'y' }],
        },
      }).finish(),
    );
    const { exited, stderr } = run({ MODEL_PATH: image });
    expect(await exited).toBe(1);
    expect(stderr().trim().split('\n')).toEqual([
      expect.stringMatching(
        /^model-service: .*image\.onnx takes float32 \[N, 3, 8, 8\] as input "x"; the service serves models with one \[batch, F\] tensor/,
      ),
    ]);
  });

  it('listens on TCP and on a 0666 unix socket, then drains on SIGTERM and exits 0', async () => {
    const socketPath = join(scratch, 'blue.sock');
    const service = await start({ SOCKET_PATH: socketPath, COLOR: 'blue' });
    try {
      const overTcp = await get({ url: service.url, path: '/health' });
      expect(overTcp.status).toBe(200);
      expect(JSON.parse(overTcp.body)).toMatchObject({ status: 'ok', version: 'v1.0.0', color: 'blue' });
      const overSocket = await get({ socketPath, path: '/health' });
      expect(JSON.parse(overSocket.body)).toMatchObject({ status: 'ok', color: 'blue' });
      expect(statSync(socketPath).mode & 0o777).toBe(0o666);
    } finally {
      service.child.kill('SIGTERM');
    }
    expect(await service.exited).toBe(0);
    expect(service.logs.map((entry) => entry.msg)).toEqual(
      expect.arrayContaining(['draining: finishing in-flight requests, then exiting', 'stopped']),
    );
    expect(existsSync(socketPath)).toBe(false);
  });

  it('replaces a stale socket file left by a killed process', async () => {
    const socketPath = join(scratch, 'stale.sock');
    const first = await start({ SOCKET_PATH: socketPath });
    first.child.kill('SIGKILL');
    await first.exited;
    expect(existsSync(socketPath)).toBe(true);
    const second = await start({ SOCKET_PATH: socketPath });
    expect((await get({ socketPath, path: '/health' })).status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('has the compiled code of the modules it loaded on disk once it listens, so a restart after kill -9 compiles less', async () => {
    // Node's compile cache goes to os.tmpdir()/node-compile-cache unless NODE_COMPILE_CACHE says otherwise.
    const temp = join(scratch, 'tmp');
    mkdirSync(temp);
    const cache = join(temp, 'node-compile-cache');
    const cachedFiles = () => (existsSync(cache) ? readdirSync(cache, { recursive: true }).length : 0);
    const first = await start({ TMPDIR: temp });
    first.child.kill('SIGKILL');
    await first.exited;
    // Written before "listening": a process killed at once (as a crash or an OOM kill would) keeps it.
    const afterFirst = cachedFiles();
    expect(afterFirst).toBeGreaterThan(100);
    const second = await start({ TMPDIR: temp });
    expect((await get({ url: second.url, path: '/health' })).status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    // The restart found what it needed and compiled (and added) next to nothing.
    expect(cachedFiles() - afterFirst).toBeLessThan(afterFirst / 10);
  });

  it('finishes a request that is in flight when SIGTERM arrives', async () => {
    const service = await start({});
    const { port } = new URL(service.url);
    const body = JSON.stringify({ features: [[1], [2], [3]] });
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((ready) => socket.once('connect', ready));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    const closed = new Promise((done) => socket.once('close', done));
    // Headers and half the body now, SIGTERM, then the rest: the request is in flight during the drain.
    socket.write(`POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body.slice(0, 10));
    await new Promise((wait) => setTimeout(wait, 200));
    service.child.kill('SIGTERM');
    await new Promise((wait) => setTimeout(wait, 300));
    socket.write(body.slice(10));
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(answer).toContain('"model_version":"v1.0.0"');
    expect(await service.exited).toBe(0);
  });

  it('on SIGTERM, takes no new connection on its socket but answers a kept one (with Connection: close), and exits only once none is left', async () => {
    const socketPath = join(scratch, 'kept.sock');
    const service = await start({ SOCKET_PATH: socketPath });
    // A kept connection, as nginx holds one: opened and used before the signal.
    const kept = connect(socketPath);
    await new Promise((ready) => kept.once('connect', ready));
    let answers = '';
    kept.on('data', (chunk) => (answers += chunk));
    const closed = new Promise((done) => kept.once('close', done));
    kept.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    while (!answers.includes('"ok"')) await new Promise((wait) => setTimeout(wait, 10));

    service.child.kill('SIGTERM');
    while (existsSync(socketPath)) await new Promise((wait) => setTimeout(wait, 10));
    // The socket file is gone (no new connection can be made) while the process still serves the kept one.
    await expect(get({ socketPath, path: '/health' })).rejects.toThrow(/ENOENT/);
    expect(service.child.exitCode).toBeNull();
    kept.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    await closed;
    expect(answers).toMatch(/HTTP\/1\.1 503 [\s\S]*[Cc]onnection: close[\s\S]*"status":"draining"/);
    expect(await service.exited).toBe(0);
    expect(service.logs.map((entry) => entry.msg)).toContain('nginx holds no connection to this color any more');
  });

  it('gives memory back with one full GC once a burst of large batches is over', async () => {
    const service = await start({ IDLE_GC_MB: '8' });
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    try {
      const body = JSON.stringify({ features: Array.from({ length: 10_000 }, (_, i) => [(i % 997) / 10]) });
      const statuses: number[] = [];
      // 8 clients x 40 batches of 10,000 rows: the kind of burst that leaves V8's heap grown.
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let i = 0; i < 40; i++) statuses.push(await post(service.url, '/predict', body, agent));
        }),
      );
      expect(statuses.every((status) => status === 200)).toBe(true);
      let collection: Record<string, unknown> | undefined;
      for (let waited = 0; waited < 15_000 && !collection; waited += 250) {
        await new Promise((wait) => setTimeout(wait, 250));
        collection = service.logs.find((entry) => entry.msg === 'idle after load: ran one full GC to give memory back');
      }
      expect(collection).toBeDefined();
      expect(collection?.['heapUsedAfterMb']).toBeLessThan(collection?.['heapUsedBeforeMb'] as number);
    } finally {
      agent.destroy();
      service.child.kill('SIGTERM');
    }
    expect(await service.exited).toBe(0);
  }, 60_000);
});
