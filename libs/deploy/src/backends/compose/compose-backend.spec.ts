import { type Color, type ResultCommand, cliOutput } from '@mlbg/contract';
import { execFile } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../cli/run';
import { DEFAULT_DEPLOYMENT_SPEC, DEPLOYMENT_SPEC_PATH } from '../../spec/deployment-spec';
import { loadDeploymentSpec } from '../../spec/load';
import { composeSwitchCommands } from '../../testing/compose-switch-deadline';
import { WORKSPACE_ROOT } from '../../testing/stack-harness';
import { answer, fakeClock, recordingRunner } from '../../testing/fakes';
import {
  type EngineCommands,
  SOCKET_PROBE_SCRIPT,
  composeBackend,
  composeFlipScript,
  composeLinksScript,
  composeReadLinksScript,
  detectEngineCommands,
  routesOfLinks,
} from './compose-backend';
import { allTo } from '../../routing/routes';
import { routeLinks } from '../../routing/slots';
import type { CommandRunner, HttpClient, RuntimeDeps } from '../../effects/deps';
import { DeployError } from '../../errors';
import { readHistory } from '../../history/history';
import { gatesNamed } from '../../gates';
import { DEFAULT_PREFLIGHT_GATES } from '../../spec/deployment-spec';
import type { Backend } from '../backend';
import { type CommandContext, stateFolderStores } from '../../commands/context';
import { type StackLayout, stackLayout } from '../local/layout';
import { switchTraffic } from '../../commands/switch/switch';

const COMPOSE = 'docker compose -f docker-compose.yml -f docker-compose.blue.yml -f docker-compose.green.yml';
/** How the tool runs a command in a container when the docker CLI is there (every case here but the fallback's). */
const EXEC = 'docker exec';
const VERSIONS: Record<Color, string> = { blue: 'v1.0.0', green: 'v1.1.0' };
const health = (color: Color, status: 'ok' | 'starting' = 'ok', featureCount = 1) => ({
  status,
  version: VERSIONS[color],
  color,
  feature_count: featureCount,
  model_sha256: 'x',
  uptime_seconds: 5,
});
/** What the probe script prints inside a color's container: a text body as it is. */
const probed200Text = (body: string) => ({ stdout: `${JSON.stringify({ status: 200, headers: {}, body })}\n` });
/** What the probe script prints inside a color's container. */
const probed = (status: number, body: unknown) => ({ stdout: `${JSON.stringify({ status, headers: {}, body: JSON.stringify(body) })}\n` });

/**
 * The route links of a scripted socket volume: the read script answers them, the links script
 * (`ln -sfn <color> <link>.next && mv ...`) moves them, as in the nginx container.
 */
function scriptedLinks(initialLive: Color) {
  const links = new Map<string, string>(
    routeLinks({ live: allTo(initialLive), preview: allTo(initialLive === 'blue' ? 'green' : 'blue') }, 20),
  );
  const live = () => links.get('live') as Color;
  const rules = [
    { match: (line: string) => line.endsWith('readlink /run/mlbg/live'), result: () => ({ stdout: `${live()}\n` }) },
    {
      match: (line: string) => line.endsWith(`${EXEC} ml-nginx sh -c ${composeReadLinksScript()}`),
      result: () => ({
        stdout: [...Array.from({ length: 20 }, (_, index) => `live-slot-${String(index).padStart(2, '0')}`), 'preview']
          .map((link) => `${link} ${links.get(link) ?? ''}\n`)
          .join(''),
      }),
    },
    {
      match: (line: string) => line.includes(`${EXEC} ml-nginx sh -c`),
      result: (line: string) => {
        for (const [, target, link] of line.matchAll(/ln -sfn (\S+) (\S+)\.next/g)) links.set(link as string, target as string);
        return {};
      },
    },
  ];
  return { rules, live, links };
}

/**
 * A scripted Compose deployment: the route links of the socket volume (read by the read script,
 * moved by the links script, as in the nginx container), each color's probe answering from
 * `colors` (so nginx answers the color the live link points at).
 */
function scriptedCompose(options: {
  live: Color;
  colors?: Partial<Record<Color, { health?: number; down?: boolean; downReplicas?: number[]; featureCount?: number }>>;
  nginxStuckOn?: Color;
}) {
  const { rules, live, links } = scriptedLinks(options.live);
  const runner = recordingRunner([
    { match: (line) => line === 'docker compose version', result: { stdout: 'Docker Compose version v2.29.0\n' } },
    ...rules.slice(0, 2),
    ...(['blue', 'green'] as const).map((color) => ({
      // Every replica's container: ml-service-green, ml-service-green-2, ...
      match: (line: string) => new RegExp(`^${EXEC} ml-service-${color}(-\\d+)? node -e`).test(line),
      result: (line: string) => {
        const fake = options.colors?.[color] ?? {};
        const replica = Number(/ml-service-[a-z]+-(\d+) /.exec(line)?.[1] ?? 1);
        if (fake.down || fake.downReplicas?.includes(replica))
          return { code: 1, stderr: `service "ml-service-${color}${replica === 1 ? '' : `-${replica}`}" is not running` };
        if (line.endsWith(' GET /health'))
          return probed(fake.health ?? 200, health(color, (fake.health ?? 200) === 200 ? 'ok' : 'starting', fake.featureCount));
        return probed(200, { predictions: [1, 2, 3], model_version: VERSIONS[color] });
      },
    })),
    ...rules.slice(2),
  ]);
  const http: HttpClient = async (target, call) => {
    expect(target).toEqual({ host: '127.0.0.1', port: 80 });
    const serving = options.nginxStuckOn ?? live();
    return answer(200, health(call.path.startsWith('/preview/') ? (serving === 'blue' ? 'green' : 'blue') : serving), {
      'x-color': serving,
    });
  };
  return { runner, http, live, links };
}

describe('the switch on Compose (a recording command runner: no Docker engine here)', () => {
  let dir: string;
  let layout: StackLayout;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlbg-compose-'));
    layout = stackLayout('/repo', join(dir, 'state'), dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const context = (backend: Backend): CommandContext => ({
    backend,
    ...stateFolderStores(layout),
    clock: fakeClock(),
    userName: 'ci',
    progress: () => undefined,
    preflight: gatesNamed(DEFAULT_PREFLIGHT_GATES),
  });
  const runtime = { clock: fakeClock(), progress: () => undefined };
  /** The Compose backend over a scripted engine, with docker's commands (or `commands`) and nginx answering 200. */
  const backendOver = (
    run: CommandRunner,
    commands: EngineCommands = { composeCommand: ['docker', 'compose'], execCommand: ['docker', 'exec'] },
  ) =>
    composeBackend({ spec: DEFAULT_DEPLOYMENT_SPEC, run, http: async () => answer(200, {}), workspaceRoot: '/repo', ...commands }, runtime);
  /** One replica per color unless told: the commands of one replica are easy to list. */
  const backendFor = (compose: ReturnType<typeof scriptedCompose>, replicas = 1) =>
    composeBackend(
      {
        spec: { ...DEFAULT_DEPLOYMENT_SPEC, replicas: { perColor: replicas, mustPass: 'all' } },
        run: compose.runner,
        http: compose.http,
        workspaceRoot: '/repo',
        composeCommand: ['docker', 'compose'],
        execCommand: ['docker', 'exec'],
      },
      runtime,
    );

  it("flips the symlinks to the colors' folders inside the nginx container with ln -sfn and mv -T: no reload", () => {
    const slots = Array.from({ length: 20 }, (_, index) => {
      const link = `live-slot-${String(index).padStart(2, '0')}`;
      return `ln -sfn green ${link}.next && mv -fT ${link}.next ${link}`;
    });
    expect(composeFlipScript('green')).toBe(
      `cd /run/mlbg && ${slots.join(' && ')} && ln -sfn green canary.next && mv -fT canary.next canary && ln -sfn green live.next && mv -fT live.next live && ln -sfn blue preview.next && mv -fT preview.next preview`,
    );
  });

  it("moves a canary's weight by renaming slot links in the nginx container (no reload), and reads the split back", async () => {
    const compose = scriptedCompose({ live: 'blue' });
    const backend = backendFor(compose);
    const canary = { live: { blue: 75, green: 25 }, preview: allTo('green') };
    await backend.setRoutes(canary);
    expect(compose.runner.lines()).toEqual([`${EXEC} ml-nginx sh -c ${composeLinksScript(canary)}`]);
    // 5 of the 20 slots on green (25%); canary and preview on green, live (the stable color) on blue.
    const slots = [...compose.links].filter(([link]) => link.startsWith('live-slot-'));
    expect(slots.filter(([, color]) => color === 'green')).toHaveLength(5);
    expect(slots.filter(([, color]) => color === 'blue')).toHaveLength(15);
    expect([compose.links.get('canary'), compose.links.get('live'), compose.links.get('preview')]).toEqual(['green', 'blue', 'green']);
    expect(await backend.readRoutes()).toEqual({ live: { blue: 75, green: 25 }, preview: { blue: 0, green: 100 } });
    // The next step only renames: the slots on green stay on green (sticky clients keep their color).
    await backend.setRoutes({ live: { blue: 50, green: 50 }, preview: allTo('green') });
    const greenBefore = slots.filter(([, color]) => color === 'green').map(([link]) => link);
    for (const link of greenBefore) expect(compose.links.get(link)).toBe('green');
    expect(await backend.readRoutes()).toEqual({ live: { blue: 50, green: 50 }, preview: { blue: 0, green: 100 } });
    expect(compose.runner.lines().some((line) => line.includes('reload'))).toBe(false);
  });

  it('refuses routes the links can not make (a split preview, a weight between two slots) and runs nothing', async () => {
    const compose = scriptedCompose({ live: 'blue' });
    const backend = backendFor(compose);
    await expect(backend.setRoutes({ live: allTo('blue'), preview: { blue: 50, green: 50 } })).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('the preview route can not be split'),
    });
    await expect(backend.setRoutes({ live: { blue: 67, green: 33 }, preview: allTo('green') })).rejects.toThrow(
      /can not be made with 20 live slots/,
    );
    expect(compose.runner.lines()).toEqual([]);
  });

  it("says which link is wrong when a slot link does not point at a color's folder", () => {
    const lines = Array.from(
      { length: 20 },
      (_, index) => `live-slot-${String(index).padStart(2, '0')} ${index === 7 ? 'blue.sock' : 'blue'}`,
    );
    expect(() => routesOfLinks([...lines, 'preview green'].join('\n'))).toThrow(
      expect.objectContaining({
        code: 'COMPOSE_FAILED',
        message: expect.stringContaining('/run/mlbg/live-slot-07 in the nginx container points at "blue.sock"'),
      }),
    );
    expect(routesOfLinks([...lines.map((line) => line.replace('blue.sock', 'green')), 'preview green'].join('\n'))).toEqual({
      live: { blue: 95, green: 5 },
      preview: { blue: 0, green: 100 },
    });
  });

  it("reaches each replica's internal routes (records, metrics) from inside its own container, with the request's headers", async () => {
    const compose = scriptedCompose({ live: 'blue' });
    const backend = backendFor(compose, 2);
    expect(await backend.colors.instances?.('green')).toEqual(['ml-service-green', 'ml-service-green-2']);
    await backend.colors.request?.('green', { method: 'GET', path: '/admin/predictions?limit=0' }, 'ml-service-green-2');
    await backend.colors.request?.('blue', {
      method: 'POST',
      path: '/predict',
      body: '{"features":[[1]]}',
      headers: { 'X-Request-Id': 'r-1' },
    });
    expect(compose.runner.lines()).toEqual([
      `${EXEC} ml-service-green-2 node -e ${SOCKET_PROBE_SCRIPT} /run/mlbg/green/r2.sock GET /admin/predictions?limit=0`,
      `${EXEC} ml-service-blue node -e ${SOCKET_PROBE_SCRIPT} /run/mlbg/blue/r1.sock POST /predict {"features":[[1]]} {"X-Request-Id":"r-1"}`,
    ]);
    await expect(backend.colors.request?.('green', { method: 'GET', path: '/health' }, 'ml-service-green-3')).rejects.toMatchObject({
      code: 'DIFF_UNAVAILABLE',
    });
  });

  it('the probe script sends the method, path, body and headers to the socket and prints the answer as one JSON line (run by node, as in the container)', async () => {
    const socket = join(dir, 'r1.sock');
    const seen: { method?: string; url?: string; headers: Record<string, unknown>; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.setHeader('x-color', 'green');
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((listening) => server.listen(socket, listening));
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [
        '-e',
        SOCKET_PROBE_SCRIPT,
        socket,
        'POST',
        '/predict',
        '{"features":[[2]]}',
        '{"X-Request-Id":"r-9","X-Mlbg-Shadow":"replay"}',
      ]);
      expect(JSON.parse(stdout)).toMatchObject({ status: 200, headers: { 'x-color': 'green' }, body: '{"ok":true}' });
      expect(seen).toEqual([
        expect.objectContaining({
          method: 'POST',
          url: '/predict',
          body: '{"features":[[2]]}',
          headers: expect.objectContaining({ 'content-type': 'application/json', 'x-request-id': 'r-9', 'x-mlbg-shadow': 'replay' }),
        }),
      ]);
    } finally {
      await new Promise((closed) => server.close(closed));
    }
  });

  it("meters a canary from nginx's access log on the bind mount and each color's /metrics summed over its replicas", async () => {
    const root = join(dir, 'server');
    mkdirSync(join(root, 'deploy/logs/nginx'), { recursive: true });
    const log = join(root, 'deploy/logs/nginx/access.log');
    writeFileSync(log, `${JSON.stringify({ status: 200, request_time: 0.001, color: 'blue' })}\n`);
    // Each replica counted `served` requests of its own (a counter per container).
    let served = 0;
    const run = recordingRunner([
      {
        match: (line) => line.includes(' GET /metrics'),
        result: () => probed200Text(`http_requests_total{route="/predict",status="200"} ${served}\n`),
      },
    ]);
    const backend = composeBackend(
      {
        spec: DEFAULT_DEPLOYMENT_SPEC,
        run,
        http: async () => answer(200, {}),
        workspaceRoot: root,
        composeCommand: ['docker', 'compose'],
        execCommand: ['docker', 'exec'],
      },
      runtime,
    );
    const meter = backend.canary?.meter({ stable: 'blue', canary: 'green' });
    await meter?.begin(25);
    served = 3;
    const line = (color: string, status: number) => `${JSON.stringify({ status, request_time: 0.002, color })}\n`;
    appendFileSync(log, line('green', 200) + line('blue', 200) + line('blue', 500));
    // The line logged before the canary began is not of its window.
    expect(await meter?.counted()).toEqual({ blue: 2, green: 1 });
    const window = await meter?.end();
    expect(window?.served.green).toEqual({
      kind: 'requests',
      requests: [{ color: 'green', status: 200, ms: 2 }],
      own: { requests: 6, errors: 0 },
    });
    expect(window?.served.blue).toMatchObject({
      kind: 'requests',
      requests: [{ status: 200 }, { status: 500 }],
      own: { requests: 6, errors: 0 },
    });
    // Every replica's /metrics, from inside its own container, at the window's start and end.
    const containers = run.lines().map((each) => /docker exec (\S+) node/.exec(each)?.[1]);
    expect(containers.sort()).toEqual(
      ['ml-service-blue', 'ml-service-blue-2', 'ml-service-green', 'ml-service-green-2'].flatMap((name) => [name, name]),
    );
    expect(backend.canary).toMatchObject({ slots: 20, previewPathPrefix: '/preview/' });
  });

  it('runs exactly these commands for a switch: read the route, preflight through the sockets, flip once', async () => {
    const compose = scriptedCompose({ live: 'blue' });
    const result = await switchTraffic(context(backendFor(compose)), { color: 'green' });
    expect(result).toMatchObject({ kind: 'switched', from: 'blue', to: 'green', fromVersion: 'v1.0.0', toVersion: 'v1.1.0' });
    const probe = (color: Color, rest: string) =>
      `${EXEC} ml-service-${color} node -e ${SOCKET_PROBE_SCRIPT} /run/mlbg/${color}/r1.sock ${rest}`;
    expect(compose.runner.lines()).toEqual([
      `${EXEC} ml-nginx sh -c ${composeReadLinksScript()}`,
      probe('green', 'GET /health'),
      probe('green', 'GET /health'),
      probe('green', 'GET /health'),
      probe('green', 'POST /predict {"features":[[1],[2],[3]]}'),
      probe('blue', 'GET /health'),
      `${EXEC} ml-nginx sh -c ${composeFlipScript('green')}`,
    ]);
    expect(compose.runner.calls.every((call) => call.cwd === '/repo')).toBe(true);
    expect(readHistory(layout.historyFile).entries).toEqual([
      expect.objectContaining({ backend: 'compose', command: 'switch-intent', to: 'green' }),
      expect.objectContaining({ backend: 'compose', outcome: 'switched', to: 'green' }),
    ]);
  });

  it('with two replicas, runs the preflight on each replica in its own container and socket, and switches when both pass', async () => {
    const compose = scriptedCompose({ live: 'blue' });
    expect(await switchTraffic(context(backendFor(compose, 2)), { color: 'green' })).toMatchObject({
      kind: 'switched',
      gates: expect.arrayContaining([
        expect.objectContaining({ name: 'replicas', ok: true, observed: '2 of 2 replicas of green passed every gate' }),
      ]),
    });
    const probes = compose.runner.lines().filter((line) => line.includes(' node -e '));
    const of = (container: string, socket: string) =>
      probes.filter((line) => line.startsWith(`${EXEC} ${container} node -e`) && line.includes(` ${socket} `));
    expect(of('ml-service-green', '/run/mlbg/green/r1.sock')).toHaveLength(4);
    expect(of('ml-service-green-2', '/run/mlbg/green/r2.sock')).toHaveLength(4);
  });

  it('with two replicas, refuses when one of them is down, naming it', async () => {
    const compose = scriptedCompose({ live: 'blue', colors: { green: { downReplicas: [2] } } });
    const result = await switchTraffic(context(backendFor(compose, 2)), { color: 'green' });
    expect(result).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining('ml-service-green-2: green /health (check 1 of 3) no answer'),
    });
    expect(compose.live()).toBe('blue');
  });

  it.each([
    [
      'is not running',
      { down: true },
      /^green \/health \(check 1 of 3\) no answer \(`docker exec ml-service-green node -e <probe script> \/run\/mlbg\/green\/r1\.sock GET \/health` exited 1: service "ml-service-green" is not running\)\.$/,
    ],
    ['is still starting', { health: 503 }, /answered 503 with status "starting"/],
    ['takes 3 features', { featureCount: 3 }, /input signature differs/],
  ])('refuses when the target %s, and never runs the flip', async (_, green, reason) => {
    const compose = scriptedCompose({ live: 'blue', colors: { green } });
    expect(await switchTraffic(context(backendFor(compose)), { color: 'green' })).toMatchObject({
      kind: 'refused',
      reason: expect.stringMatching(reason),
    });
    expect(compose.runner.lines().filter((line) => line.includes(' ln -sfn '))).toEqual([]);
    expect(compose.live()).toBe('blue');
  });

  it('flips back when nginx keeps serving the old color', async () => {
    const compose = scriptedCompose({ live: 'blue', nginxStuckOn: 'blue' });
    expect(await switchTraffic(context(backendFor(compose)), { color: 'green' })).toMatchObject({
      kind: 'reverted',
      reason: expect.stringContaining('answered blue v1.0.0, expected green v1.1.0'),
    });
    expect(compose.runner.lines().filter((line) => line.includes(' ln -sfn '))).toEqual([
      `${EXEC} ml-nginx sh -c ${composeFlipScript('green')}`,
      `${EXEC} ml-nginx sh -c ${composeFlipScript('blue')}`,
    ]);
  });

  it('fails with a clear error when the live route can not be read', async () => {
    const runner = recordingRunner([
      { match: (line) => line.includes('readlink'), result: { code: 1, stderr: 'service "nginx" is not running' } },
    ]);
    const backend = backendOver(runner);
    const error = await switchTraffic(context(backend), {}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DeployError);
    expect(error).toMatchObject({ code: 'COMPOSE_FAILED', message: expect.stringContaining('exited 1: service "nginx" is not running') });
    expect(runner.lines()).toHaveLength(1);
  });

  it('finds docker compose v2, else docker-compose v1, else says Docker is missing; execs with the docker CLI whenever it answered', async () => {
    expect(await detectEngineCommands(recordingRunner([{ match: (line) => line === 'docker compose version', result: {} }]))).toEqual({
      composeCommand: ['docker', 'compose'],
      execCommand: ['docker', 'exec'],
    });
    const v1 = recordingRunner([
      { match: (line) => line === 'docker compose version', result: { code: 1, stderr: "docker: 'compose' is not a docker command." } },
      { match: (line) => line === 'docker-compose version', result: {} },
    ]);
    expect(await detectEngineCommands(v1)).toEqual({ composeCommand: ['docker-compose'], execCommand: ['docker', 'exec'] });
    // docker-compose v1 talks to the engine's API itself: a machine may have it without the docker CLI.
    const v1Alone = recordingRunner([
      { match: (line) => line === 'docker compose version', result: { code: null, error: 'spawn docker ENOENT' } },
      { match: (line) => line === 'docker-compose version', result: {} },
    ]);
    expect(await detectEngineCommands(v1Alone)).toEqual({ composeCommand: ['docker-compose'] });
    const none = recordingRunner([{ match: () => true, result: { code: null, error: 'spawn docker ENOENT' } }]);
    await expect(detectEngineCommands(none)).rejects.toMatchObject({ code: 'DOCKER_NOT_FOUND' });
    // An override is the whole engine: every command goes through it.
    expect(await detectEngineCommands(none, 'podman-compose')).toEqual({ composeCommand: ['podman-compose'] });
  });

  it('without the docker CLI, runs in a container through `<compose> exec -T <service>`', async () => {
    const runner = recordingRunner([
      {
        match: (line) => line === `${COMPOSE} exec -T nginx sh -c ${composeReadLinksScript()}`,
        result: {
          stdout: [...Array.from({ length: 20 }, (_, index) => `live-slot-${String(index).padStart(2, '0')} green`), 'preview blue'].join(
            '\n',
          ),
        },
      },
      { match: () => true, result: { code: 1, stderr: 'not scripted' } },
    ]);
    const backend = backendOver(runner, { composeCommand: ['docker', 'compose'] });
    expect(await backend.readRoutes()).toEqual({ live: allTo('green'), preview: allTo('blue') });
    expect(runner.lines()).toEqual([`${COMPOSE} exec -T nginx sh -c ${composeReadLinksScript()}`]);
  });

  it('is reachable from the CLI with --target=compose, for switch and status', async () => {
    const compose = scriptedCompose({ live: 'green' });
    const out: string[] = [];
    const deps = { http: compose.http, run: compose.runner, clock: fakeClock(), userName: 'ci', tmpRoot: dir } as unknown as RuntimeDeps;
    const cli = (...argv: string[]) =>
      runCli(argv, {
        env: { BLUEGREEN_STATE_DIR: join(dir, 'state') },
        workspaceRoot: join(__dirname, '../../../../..'),
        cwd: dir,
        stdout: (text) => out.push(text),
        stderr: (text) => out.push(text),
        deps: (progress) => ({ ...deps, progress }),
      });
    expect(await cli('switch', '--target=compose')).toBe(0);
    expect(out.join('\n')).toContain('Switched live traffic green -> blue (v1.1.0 -> v1.0.0).');
    out.length = 0;
    expect(await cli('status', '--target', 'compose', '--json')).toBe(0);
    const status: unknown = JSON.parse(out.at(-1) ?? '');
    expect(cliOutput('status').parse(status)).toEqual(status);
    expect(status).toMatchObject({
      ok: true,
      result: { backend: 'compose', live: 'blue', preview: 'green', healthy: true, lastSwitch: { from: 'green', to: 'blue' } },
    });
  });

  it("runs at most composeSwitchCommands engine commands for a switch and a rollback through the CLI (the Compose suite's limit on a switch is made of them)", async () => {
    const spec = loadDeploymentSpec(join(WORKSPACE_ROOT, DEPLOYMENT_SPEC_PATH));
    const compose = scriptedCompose({ live: 'green' });
    const deps = { http: compose.http, run: compose.runner, clock: fakeClock(), userName: 'ci', tmpRoot: dir } as unknown as RuntimeDeps;
    const cli = (...argv: string[]) =>
      runCli(argv, {
        env: { BLUEGREEN_STATE_DIR: join(dir, 'state') },
        workspaceRoot: WORKSPACE_ROOT,
        cwd: dir,
        stdout: () => undefined,
        stderr: () => undefined,
        deps: (progress) => ({ ...deps, progress }),
      });
    // Finding the compose command: one check here (v2 answers); two where only docker-compose v1 does (see above).
    const commandsOf = async (...argv: string[]) => {
      const before = compose.runner.calls.length;
      expect(await cli(...argv)).toBe(0);
      return compose.runner.calls.length - before + 1;
    };
    expect(spec.replicas.perColor).toBeGreaterThan(1);
    expect(await commandsOf('switch', '--target=compose')).toBe(composeSwitchCommands(spec));
    expect(compose.live()).toBe('blue');
    expect(await commandsOf('rollback', '--target=compose')).toBe(composeSwitchCommands(spec));
    expect(compose.live()).toBe('green');
  });
});

describe('a release on Compose (a recording command runner: no Docker engine here)', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mlbg-compose-release-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** blue live; green answers with `greenVersion()` once recreated, or never becomes healthy when `broken`. */
  function deployment(options: { broken?: boolean } = {}) {
    let recreated = 0;
    const links = scriptedLinks('blue');
    const runner = recordingRunner([
      ...links.rules.slice(0, 2),
      { match: (line) => line.includes('--force-recreate ml-service-green'), result: () => ((recreated += 1), {}) },
      {
        match: (line) => line.includes(`${EXEC} ml-service-`),
        result: (line) => {
          const color: Color = line.includes('ml-service-blue') ? 'blue' : 'green';
          const broken = color === 'green' && options.broken && recreated === 1;
          const version = color === 'blue' ? 'v1.0.0' : recreated >= 1 ? 'v1.2.0' : 'v1.1.0';
          return broken ? probed(503, { ...health(color, 'starting'), version }) : probed(200, { ...health(color), version });
        },
      },
    ]);
    const http: HttpClient = async () => answer(200, { ...health('green'), version: 'v1.2.0' }, { 'x-color': 'green' });
    const backend = composeBackend(
      {
        spec: DEFAULT_DEPLOYMENT_SPEC,
        run: runner,
        http,
        workspaceRoot: root,
        composeCommand: ['docker', 'compose'],
        execCommand: ['docker', 'exec'],
      },
      { clock: fakeClock(), progress: () => undefined },
    );
    return { backend, runner, links: links.links };
  }

  it('refuses to release while a canary splits the live route (either color takes live traffic), and changes nothing', async () => {
    writeFileSync(join(root, '.env'), 'BLUE_IMAGE=ghcr.io/acme/model-service:old\n');
    const { backend, runner, links } = deployment();
    // green at 25%: 5 slot links on it, as a canary leaves them.
    for (const slot of ['live-slot-00', 'live-slot-03', 'live-slot-05', 'live-slot-08', 'live-slot-13']) links.set(slot, 'green');
    await expect(backend.release({ image: 'ghcr.io/acme/model-service:new', timeoutMs: 5_000 })).rejects.toMatchObject({
      code: 'CANARY_IN_PROGRESS',
      message: expect.stringContaining('blue 75% / green 25%'),
    });
    expect(runner.lines().filter((line) => line.includes(' up ') || line.includes('ml-service-'))).toEqual([]);
    expect(readFileSync(join(root, '.env'), 'utf8')).toBe('BLUE_IMAGE=ghcr.io/acme/model-service:old\n');
  });

  it("given blue live, when releasing a model and an image, then only green's replicas are recreated, one by one, with both kept in .env", async () => {
    writeFileSync(join(root, '.env'), 'BLUE_IMAGE=ghcr.io/acme/model-service:old\n');
    const { backend, runner } = deployment();
    const result = await backend.release({ model: 'models/v1.2.0/model.onnx', image: 'ghcr.io/acme/model-service:new', timeoutMs: 5_000 });
    expect(result).toMatchObject({
      color: 'green',
      version: 'v1.2.0',
      image: 'ghcr.io/acme/model-service:new',
      live: { color: 'blue', version: 'v1.0.0' },
    });
    expect(readFileSync(join(root, '.env'), 'utf8')).toBe(
      'BLUE_IMAGE=ghcr.io/acme/model-service:old\nGREEN_MODEL=/app/models/v1.2.0/model.onnx\nGREEN_IMAGE=ghcr.io/acme/model-service:new\n',
    );
    expect(runner.lines().filter((line) => line.includes(' up '))).toEqual([
      `${COMPOSE} up -d --no-deps --no-build --force-recreate ml-service-green`,
      `${COMPOSE} up -d --no-deps --no-build --force-recreate ml-service-green-2`,
    ]);
    expect(result.replicas).toEqual([
      { name: 'ml-service-green', pid: null },
      { name: 'ml-service-green-2', pid: null },
    ]);
  });

  it.each([
    { model: 'x.onnx\nGREEN_IMAGE=evil/img' },
    { model: '/app/models/$(id)/model.onnx' },
    { model: 'models/my model.onnx' },
    { image: 'ghcr.io/acme/model-service:new\nBLUE_MODEL=/etc/passwd' },
    { image: 'ghcr.io/acme/model-service:new #comment' },
  ])('refuses %j, which would be more (or other) than one value in .env, and changes nothing', async (request) => {
    writeFileSync(join(root, '.env'), 'GREEN_IMAGE=ghcr.io/acme/model-service:good\n');
    const { backend, runner } = deployment();
    await expect(backend.release({ ...request, timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'USAGE' });
    expect(readFileSync(join(root, '.env'), 'utf8')).toBe('GREEN_IMAGE=ghcr.io/acme/model-service:good\n');
    expect(runner.lines().filter((line) => line.includes(' up '))).toEqual([]);
  });

  it('fails at once when the new container keeps restarting (a model that does not load), and puts it back', async () => {
    let inspections = 0;
    const runner = recordingRunner([
      ...scriptedLinks('blue').rules.slice(0, 2),
      { match: (line) => line.includes('--force-recreate ml-service-green'), result: {} },
      {
        match: (line) => line.startsWith('docker inspect --format {{.RestartCount}}') && line.endsWith(' ml-service-green'),
        result: () => ({ stdout: `${inspections++ === 0 ? 0 : 2} starting\n` }),
      },
      {
        match: (line) => line.startsWith('docker logs --tail 15 ml-service-green'),
        result: { stdout: 'Error: model file is not a valid ONNX model\n' },
      },
      { match: (line) => line.includes(`${EXEC} ml-service-blue`), result: probed(200, health('blue')) },
      { match: (line) => line.includes(`${EXEC} ml-service-green`), result: { code: 1, stderr: 'container is restarting' } },
    ]);
    const backend = composeBackend(
      {
        spec: DEFAULT_DEPLOYMENT_SPEC,
        run: runner,
        http: async () => answer(200, {}),
        workspaceRoot: root,
        composeCommand: ['docker', 'compose'],
        execCommand: ['docker', 'exec'],
      },
      { clock: fakeClock(), progress: () => undefined },
    );
    const error = await backend
      .release({ image: 'ghcr.io/acme/model-service:broken', timeoutMs: 180_000 })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'RELEASE_FAILED',
      message: expect.stringContaining('ml-service-green keeps restarting (its process exited 2 time(s) while starting'),
    });
    expect((error as Error).message).toContain('| Error: model file is not a valid ONNX model');
    expect(runner.lines().filter((line) => line.includes('--force-recreate'))).toHaveLength(2);
  });

  it('removes the crash-looping container before putting the color back: an engine may restart it after a stop, and it keeps the port', async () => {
    // The engine as podman 4.3 behaves: a stop between two runs of a crash-looping container is
    // answered "already stopped" and the restart goes on, so the renamed old container keeps 8082
    // and `up --force-recreate` can not start the restored one. Only `docker rm -f` ends the loop.
    let crashLooping = false;
    let recreated = 0;
    let inspections = 0;
    const runner = recordingRunner([
      ...scriptedLinks('blue').rules.slice(0, 2),
      {
        match: (line) => line.includes('--force-recreate ml-service-green'),
        result: () => {
          if (crashLooping) return { code: 1, stderr: 'Cannot start service ml-service-green: bind: address already in use' };
          recreated += 1;
          crashLooping = recreated === 1; // the broken image; the second up is the color's previous one
          return {};
        },
      },
      { match: (line) => line === 'docker rm -f ml-service-green', result: () => ((crashLooping = false), {}) },
      {
        match: (line) => line.startsWith('docker inspect --format {{.RestartCount}}') && line.endsWith(' ml-service-green'),
        result: () => ({ stdout: `${inspections++ === 0 ? 0 : 2} starting\n` }),
      },
      { match: (line) => line.startsWith('docker logs --tail 15 ml-service-green'), result: { stdout: 'Error: model file is corrupt\n' } },
      { match: (line) => line.includes(`${EXEC} ml-service-blue`), result: probed(200, health('blue')) },
      { match: (line) => line.includes(`${EXEC} ml-service-green`), result: { code: 1, stderr: 'container is restarting' } },
    ]);
    const backend = composeBackend(
      {
        spec: DEFAULT_DEPLOYMENT_SPEC,
        run: runner,
        http: async () => answer(200, {}),
        workspaceRoot: root,
        composeCommand: ['docker', 'compose'],
        execCommand: ['docker', 'exec'],
      },
      { clock: fakeClock(), progress: () => undefined },
    );
    const error = await backend
      .release({ image: 'ghcr.io/acme/model-service:broken', timeoutMs: 180_000 })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'RELEASE_FAILED', message: expect.stringContaining('ml-service-green keeps restarting') });
    expect((error as Error).message).toContain('ml-service-green was recreated as it was before.');
    expect(crashLooping).toBe(false);
  });

  it('refuses the live color, and puts .env and the container back when the new one never becomes healthy', async () => {
    await expect(deployment().backend.release({ model: 'models/v1.2.0/model.onnx', color: 'blue' })).rejects.toMatchObject({
      code: 'LIVE_COLOR_RELEASE',
    });
    writeFileSync(join(root, '.env'), 'GREEN_IMAGE=ghcr.io/acme/model-service:good\n');
    const { backend, runner } = deployment({ broken: true });
    const error = await backend
      .release({ image: 'ghcr.io/acme/model-service:broken', timeoutMs: 3_000 })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'RELEASE_FAILED',
      message: expect.stringContaining('ml-service-green was not healthy after 3 s (last: answered 503 with status "starting")'),
    });
    expect(readFileSync(join(root, '.env'), 'utf8')).toBe('GREEN_IMAGE=ghcr.io/acme/model-service:good\n');
    expect(runner.lines().filter((line) => line.includes(' up '))).toHaveLength(2);
  });
});

/**
 * A scripted Compose engine for the CLI: each color runs an image (from the deploy folder's .env,
 * as Compose reads it), each image serves a model version, nginx answers as the color live.sock
 * points at. `recreate` may be held open to catch the CLI mid-command.
 */
function scriptedEngine(root: string, versions: Record<string, string>) {
  const images: Record<Color, string> = { blue: 'ml-model-service:blue', green: 'ml-model-service:green' };
  const { rules, live } = scriptedLinks('blue');
  let holdRecreate: Promise<void> = Promise.resolve();
  let recreating: () => void = () => undefined;
  const recreateStarted = new Promise<void>((started) => (recreating = started));
  const envValue = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(readFileSync(join(root, '.env'), 'utf8'))?.[1];
  const answerOf = (color: Color) => ({ ...health(color), version: versions[images[color]] ?? 'v0' });
  const runner = recordingRunner([
    { match: (line) => line === 'docker compose version', result: {} },
    ...rules.slice(0, 2),
    {
      match: (line) => line.includes(`${EXEC} ml-service-`),
      result: (line) =>
        line.includes(' POST ')
          ? probed(200, { predictions: [1, 2, 3], model_version: answerOf(line.includes('ml-service-blue') ? 'blue' : 'green').version })
          : probed(200, answerOf(line.includes('ml-service-blue') ? 'blue' : 'green')),
    },
    ...rules.slice(2),
  ]);
  const run: CommandRunner = async (command, args, options) => {
    const line = [command, ...args].join(' ');
    const service = /--force-recreate ml-service-(blue|green)(-\d+)?$/.exec(line)?.[1] as Color | undefined;
    if (service) {
      recreating();
      await holdRecreate;
      images[service] = envValue(`${service.toUpperCase()}_IMAGE`) ?? `ml-model-service:${service}`;
      return { code: 0, stdout: '', stderr: '' };
    }
    return runner(command, args, options);
  };
  const http: HttpClient = async (_target, call) =>
    answer(200, answerOf(call.path.startsWith('/preview/') ? (live() === 'blue' ? 'green' : 'blue') : live()), {
      'x-color': call.path.startsWith('/preview/') ? (live() === 'blue' ? 'green' : 'blue') : live(),
    });
  return {
    run,
    http,
    live,
    image: (color: Color) => images[color],
    hold(): () => void {
      let release: () => void = () => undefined;
      holdRecreate = new Promise((resolve) => (release = resolve));
      return release;
    },
    recreateStarted,
  };
}

describe("CD's one command and the manual commands share one path (a scripted Compose engine: no Docker engine here)", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mlbg-compose-cd-'));
    mkdirSync(join(root, 'deploy'));
    copyFileSync(join(__dirname, '../../../../../deploy/deployment.json'), join(root, 'deploy/deployment.json'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const cliOn = (engine: ReturnType<typeof scriptedEngine>) => {
    const deps = { http: engine.http, run: engine.run, clock: fakeClock(), userName: 'cd', tmpRoot: root } as unknown as RuntimeDeps;
    return async (...argv: string[]) => {
      const out: string[] = [];
      const code = await runCli([...argv, '--json'], {
        env: {},
        workspaceRoot: root,
        cwd: root,
        stdout: (text) => out.push(text),
        stderr: () => undefined,
        deps: (progress) => ({ ...deps, progress }),
      });
      const json = JSON.parse(out.at(-1) ?? '{}') as Record<string, unknown>;
      // What the CLI printed is what the contract says it prints (the e2e suite, the bench and CD read it).
      expect(cliOutput(argv[0] as ResultCommand).parse(json)).toEqual(json);
      return { code, json };
    };
  };

  it('given blue live, when CD releases a new image with --switch, then green serves it live, and deploy:rollback undoes the deploy', async () => {
    const engine = scriptedEngine(root, {
      'ml-model-service:blue': 'v1.0.0',
      'ml-model-service:green': 'v1.1.0',
      'ghcr.io/acme/model-service:new': 'v1.2.0',
    });
    const cli = cliOn(engine);
    const deployed = await cli('release', '--backend=compose', '--image=ghcr.io/acme/model-service:new', '--switch');
    expect(deployed).toMatchObject({
      code: 0,
      json: {
        ok: true,
        result: { color: 'green', version: 'v1.2.0', switch: { kind: 'switched', from: 'blue', to: 'green', toVersion: 'v1.2.0' } },
      },
    });
    expect([engine.live(), engine.image('green'), engine.image('blue')]).toEqual([
      'green',
      'ghcr.io/acme/model-service:new',
      'ml-model-service:blue',
    ]);
    // New code for the live model: green got blue's model with the image, not its own older one.
    expect(readFileSync(join(root, '.env'), 'utf8')).toBe(
      'GREEN_MODEL=/app/models/v1.0.0/model.onnx\nGREEN_IMAGE=ghcr.io/acme/model-service:new\n',
    );

    const rolledBack = await cli('rollback', '--backend=compose');
    expect(rolledBack).toMatchObject({
      code: 0,
      json: { ok: true, result: { kind: 'switched', from: 'green', to: 'blue', toVersion: 'v1.0.0' } },
    });
    expect(engine.live()).toBe('blue');
    const history = readHistory(join(root, '.bluegreen/history.jsonl'))
      .entries.filter((entry) => entry.command !== 'switch-intent')
      .map((entry) => `${entry.backend} ${entry.command} ${entry.outcome}`);
    expect(history).toEqual(['compose release released', 'compose switch switched', 'compose rollback switched']);
  });

  it('refuses a manual switch while CD holds the lock, naming CD, and lets CD finish', async () => {
    const engine = scriptedEngine(root, {
      'ml-model-service:blue': 'v1.0.0',
      'ml-model-service:green': 'v1.1.0',
      'ghcr.io/acme/model-service:new': 'v1.2.0',
    });
    const cli = cliOn(engine);
    const letRecreateFinish = engine.hold();
    const deploy = cli('release', '--backend=compose', '--image=ghcr.io/acme/model-service:new', '--switch');
    await engine.recreateStarted;
    const manual = await cli('switch', '--backend=compose', '--color=green');
    expect(manual).toMatchObject({
      code: 1,
      json: {
        ok: false,
        error: { code: 'LOCKED', message: expect.stringContaining('`release --image=ghcr.io/acme/model-service:new --switch` (pid') },
      },
    });
    letRecreateFinish();
    expect(await deploy).toMatchObject({ code: 0, json: { result: { switch: { kind: 'switched', to: 'green' } } } });
    expect(engine.live()).toBe('green');
  });
});
