import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Color } from '@mlbg/contract';
import { freePort } from '../../../effects/real-deps';
import { renderNginxConf } from '../../../render/nginx/nginx';
import { localNginxSite } from '../../../render/nginx/nginx-site';
import type { Routes } from '../../../routing/routes';
import { DeploymentSpec } from '../../../spec/deployment-spec';
import { replicaNumbers } from '../../../spec/sockets';
import { describeWithBinary, findBinary } from '../../../testing/real-tools';
import { stackLayout } from '../layout';
import { writeRouteLinks } from './route-links';

// About 2,000 sequential requests: a deadline for a hang, not a measure of speed.
jest.setTimeout(120_000);
const NGINX = findBinary('nginx');
const USERS = 200;
const at = (green: number): Routes => ({ live: { blue: 100 - green, green }, preview: { blue: 0, green: 100 } });

/** A stand-in for a color (not the model service): answers every request with its name. */
async function fakeColor(color: Color, socketPath: string): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.setHeader('X-Color', color).end(color));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  chmodSync(socketPath, 0o666);
  return server;
}

describeWithBinary(NGINX, 'nginx')('sticky canary routing: real nginx, real slot links, fake colors', () => {
  let root: string;
  let port: number;
  let nginx: ChildProcess;
  const servers: Server[] = [];
  // Without upstream keepalive: these stand-ins do not retire kept connections as the service does
  // (weights.int.spec.ts covers that with real colors), and this spec is about where the hash sends a user.
  const spec = DeploymentSpec.parse({
    canary: { sticky: { header: 'X-User-Id', canaryValues: ['tester-1'] } },
    proxy: { upstreamKeepalive: false },
  });

  const colorFor = (user?: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/predict', agent: false, headers: user ? { 'X-User-Id': user } : {} },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end();
    });

  let layout: ReturnType<typeof stackLayout>;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mlbg-sticky-'));
    chmodSync(root, 0o755);
    layout = stackLayout(root, 'state', root);
    mkdirSync(layout.socketDir, { recursive: true, mode: 0o755 });
    chmodSync(layout.runtimeDir, 0o755);
    for (const color of ['blue', 'green'] as const) {
      mkdirSync(layout.colorFolder(color), { mode: 0o755 });
      for (const replica of replicaNumbers(spec.replicas.perColor))
        servers.push(await fakeColor(color, layout.replicaSocket(color, replica)));
    }
    writeRouteLinks(layout, at(25), spec.canary.slots);
    const prefix = join(root, 'prefix');
    mkdirSync(prefix, { mode: 0o755 });
    port = await freePort();
    writeFileSync(join(prefix, 'nginx.conf'), renderNginxConf(spec, localNginxSite(spec, { socketDir: layout.socketDir, port })));
    nginx = spawn(NGINX as string, ['-p', `${prefix}/`, '-c', 'nginx.conf', '-g', 'daemon off;'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await colorFor();
        return;
      } catch (error) {
        if (nginx.exitCode !== null || Date.now() > deadline) throw error;
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
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  it('keeps each user on one color while the weight holds, keeps canary users there as it grows, and sends the allow-listed tester to the canary', async () => {
    const users = Array.from({ length: USERS }, (_, index) => `user-${index}`);
    const colorsOf = async () => Promise.all(users.map(async (user) => [await colorFor(user), await colorFor(user), await colorFor(user)]));

    const at25 = await colorsOf();
    expect(at25.filter((seen) => new Set(seen).size !== 1)).toEqual([]);
    const onGreen = new Set(users.filter((_, index) => at25[index]?.[0] === 'green'));
    const withoutHeader = await Promise.all(Array.from({ length: 400 }, () => colorFor()));
    const spread = withoutHeader.filter((color) => color === 'green').length / withoutHeader.length;
    console.log(
      `sticky at 25%: ${onGreen.size} of ${USERS} users on green; without the header ${(100 * spread).toFixed(1)}% of 400 on green`,
    );
    // A consistent hash spreads keys over the slots only approximately: a wide band, but both colors.
    expect(onGreen.size).toBeGreaterThan(USERS * 0.1);
    expect(onGreen.size).toBeLessThan(USERS * 0.4);
    expect(spread).toBeGreaterThan(0.1);
    expect(spread).toBeLessThan(0.4);
    expect(await Promise.all(Array.from({ length: 10 }, () => colorFor('tester-1')))).toEqual(Array.from({ length: 10 }, () => 'green'));

    writeRouteLinks(layout, at(50), spec.canary.slots);
    const at50 = await colorsOf();
    expect(users.filter((user, index) => onGreen.has(user) && at50[index]?.[0] !== 'green')).toEqual([]);
    expect(at50.filter((seen) => seen[0] === 'green').length).toBeGreaterThan(onGreen.size);

    writeRouteLinks(layout, at(0), spec.canary.slots);
    expect(new Set((await colorsOf()).flat())).toEqual(new Set(['blue']));
    // No canary: the canary link points at the live color, so the tester gets it too.
    expect(await colorFor('tester-1')).toBe('blue');
  });
});
