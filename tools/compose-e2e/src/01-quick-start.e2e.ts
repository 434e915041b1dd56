import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compose, docker, dockerOk, WORKSPACE_ROOT } from './support/exec';
import { healthVerdictMs } from './support/engine';
import { ask, PREDICT_BODY, waitUntil } from './support/http';
import { recordTiming } from './support/timings';

/** The seed's quick start, command for command (ORIGINAL.md), on the real files. */
const COLORS = [
  { color: 'blue', container: 'ml-service-blue', port: 8081, version: 'v1.0.0' },
  { color: 'green', container: 'ml-service-green', port: 8082, version: 'v1.1.0' },
] as const;
/** Every replica's container: the first keeps the original's name. */
const REPLICA_CONTAINERS = ['ml-service-blue', 'ml-service-blue-2', 'ml-service-green', 'ml-service-green-2'];
/** Build and test tools, and typescript (only @trpc/server's peer dependency, for its types): none belongs in the image. */
const DEV_ONLY = ['nx', '@nx', 'jest', 'ts-jest', '@swc', '@playwright', 'eslint', 'autocannon', 'typescript'];
/** `up --build` builds the image twice (one tag per color; the second from the layer cache). Measured: 100 s here from an empty cache. */
const BUILD_TIMEOUT_MS = 10 * 60_000;

describe('the seed quick start, on a real engine', () => {
  it(
    '`docker-compose -f docker-compose.yml -f docker-compose.blue.yml -f docker-compose.green.yml up --build -d` builds and starts blue, green and nginx',
    async () => {
      const up = await compose(['up', '--build', '-d'], { timeoutMs: BUILD_TIMEOUT_MS });
      expect({ status: up.status, tail: up.status === 0 ? '' : `${up.stdout.slice(-3000)}\n${up.stderr.slice(-3000)}` }).toEqual({
        status: 0,
        tail: '',
      });
      recordTiming('up --build -d (image build + start)', up.ms);
      expect(up.stderr).toMatch(/Creating ml-service-blue .*done/);
      expect(up.stderr).toMatch(/Creating ml-nginx .*done/);
    },
    BUILD_TIMEOUT_MS + 10_000,
  );

  it('`ps` shows both colors healthy, every replica of each (ml-service-blue, ml-service-blue-2, ...), and nginx up', async () => {
    // nginx depends on every replica being healthy, so `up` returned after that; `ps` must agree.
    await waitUntil('ps shows both colors healthy', healthVerdictMs(), async () => {
      const ps = await compose(['ps']);
      return ps.status === 0 &&
        REPLICA_CONTAINERS.every((container) => new RegExp(`${container} .*Up \\(healthy\\)`).test(ps.stdout)) &&
        /ml-nginx .*Up/.test(ps.stdout)
        ? true
        : ps.stdout;
    });
  });

  it("each replica listens on its own socket in the shared volume, in its color's folder", async () => {
    for (const [container, socket] of [
      ['ml-service-blue', '/run/mlbg/blue/r1.sock'],
      ['ml-service-blue-2', '/run/mlbg/blue/r2.sock'],
      ['ml-service-green', '/run/mlbg/green/r1.sock'],
      ['ml-service-green-2', '/run/mlbg/green/r2.sock'],
    ] as const) {
      expect([container, await dockerOk(['exec', 'ml-nginx', 'sh', '-c', `test -S ${socket} && echo socket`])]).toEqual([
        container,
        'socket',
      ]);
    }
    expect(await dockerOk(['exec', 'ml-nginx', 'readlink', '/run/mlbg/live'])).toBe('blue');
    expect(await dockerOk(['exec', 'ml-nginx', 'readlink', '/run/mlbg/live-slot-07'])).toBe('blue');
    expect(await dockerOk(['exec', 'ml-nginx', 'readlink', '/run/mlbg/preview'])).toBe('green');
  });

  it.each(COLORS)('`curl http://localhost:$port/health` answers $color, $version', async ({ color, port, version }) => {
    const answer = await ask(port, '/health');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 'ok', version, color });
    const predict = await ask(port, '/predict', PREDICT_BODY);
    expect(predict.status).toBe(200);
    expect(JSON.parse(predict.body)).toMatchObject({ model_version: version, predictions: expect.any(Array) });
  });

  it('`curl http://localhost/health` and `/predict` on port 80 answer through nginx from blue; `/preview/` from green', async () => {
    expect(JSON.parse((await ask(80, '/health')).body)).toMatchObject({ status: 'ok', version: 'v1.0.0', color: 'blue' });
    const predict = await ask(80, '/predict', PREDICT_BODY);
    expect(predict).toMatchObject({ status: 200, color: 'blue', version: 'v1.0.0' });
    expect(JSON.parse(predict.body).predictions).toHaveLength(3);
    expect(await ask(80, '/preview/health')).toMatchObject({ status: 200, color: 'green', version: 'v1.1.0' });
  });

  it("`docker logs ml-service-blue` shows the model loaded; the requests answered are in nginx's access log, not repeated by the color", async () => {
    const logs = await docker(['logs', 'ml-service-blue']);
    expect(logs.status).toBe(0);
    const text = logs.stdout + logs.stderr;
    expect(text).toContain('"msg":"model loaded and warmed up"');
    // Behind nginx, which logs every request, a color logs only its errors (LOG_REQUESTS=false: docs/operate.md#logs).
    expect(text).not.toMatch(/"url":"\/predict","status":200/);
    // nginx writes its buffered access log at least every second (`flush=1s`): the /predict of the test above is there by then.
    await waitUntil("nginx's access log has the /predict blue answered", 5_000, async () => {
      const access = readFileSync(join(WORKSPACE_ROOT, 'deploy/logs/nginx/access.log'), 'utf8').split('\n');
      return (
        access.some((line) => line.includes('"request":"POST /predict HTTP/1.1","status":200') && line.includes('"color":"blue"')) ||
        'not yet'
      );
    });
  });

  it.each(REPLICA_CONTAINERS)('%s runs as the non-root user node, on a read-only root filesystem', async (container) => {
    expect(await dockerOk(['exec', container, 'id', '-u'])).toBe('1000');
    expect(await dockerOk(['inspect', '--format', '{{.HostConfig.ReadonlyRootfs}}', container])).toBe('true');
    const write = await docker(['exec', container, 'sh', '-c', 'touch /app/written-at-run-time']);
    expect(write.status).not.toBe(0);
    expect(write.stderr).toContain('Read-only file system');
  });

  it('the image is small: production dependencies only, one onnxruntime binary (its size is reported)', async () => {
    const bytes = Number(await dockerOk(['image', 'inspect', '--format', '{{.Size}}', 'ml-model-service:blue']));
    const nodeImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync(join(WORKSPACE_ROOT, 'Dockerfile'), 'utf8'))?.[1] ?? 'node';
    const base = Number(await dockerOk(['image', 'inspect', '--format', '{{.Size}}', nodeImage]));
    recordTiming(
      'image size (reported, not a time)',
      0,
      `ml-model-service:blue ${(bytes / 1e6).toFixed(0)} MB, of which the node base ${(base / 1e6).toFixed(0)} MB`,
    );
    const binaries = await dockerOk([
      'run',
      '--rm',
      '--entrypoint',
      'find',
      'ml-model-service:blue',
      '/app/node_modules/onnxruntime-node/bin',
      '-name',
      '*.node',
    ]);
    expect(binaries.split('\n')).toEqual([`/app/node_modules/onnxruntime-node/bin/napi-v6/linux/${process.arch}/onnxruntime_binding.node`]);
    // Listed, not tested by exit status: `docker run` through podman 4.3's Docker API exits 0 whatever the command did.
    const present = await dockerOk([
      'run',
      '--rm',
      '--entrypoint',
      'sh',
      'ml-model-service:blue',
      '-c',
      `cd /app/node_modules && ls -d ${DEV_ONLY.join(' ')} 2>/dev/null || true`,
    ]);
    expect(present).toBe('');
    // What the app adds to the base: dependencies (~100 MB with onnxruntime's one library), dist, models.
    expect(bytes - base).toBeLessThan(200e6);
  });
});
