import type { HealthView, StatusResult } from '@mlbg/contract';
import { readHistory } from '../../../history/history';
import { DEFAULT_SUPERVISOR } from '../../../spec/deployment-spec';
import { processControl } from '../../../effects/real-deps';
import { type LoadReport, failureKinds, keepAliveLoad, stopAllLoads } from '../../../testing/keepalive-load';
import { describeWithBinary, findBinary } from '../../../testing/real-tools';
import { StackHarness } from '../../../testing/stack-harness';
import { readSupervisorStatus } from '../supervisor/supervisor-files';

/**
 * Replicas on the real local stack (real nginx, real colors of two replicas each), under load:
 * 32 keep-alive clients POST /predict and every answer is counted. A crash of one live replica and
 * a release of the idle color, replica by replica, must lose no request at all.
 */
jest.setTimeout(240_000);
const NGINX = findBinary('nginx');
const CLIENTS = 32;
const PREDICT = JSON.stringify({ features: [[1], [2], [3]] });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every part of a status that is not healthy, and why (its /health checks and its notes): empty when it is healthy. */
function unhealthyParts(shown: StatusResult): string[] {
  if (shown.healthy) return [];
  const health = (where: string, view: HealthView) => (view.ok ? [] : [`${where}: ${view.error ?? `${view.httpStatus} ${view.status}`}`]);
  return [
    `stack ${shown.stack}, supervisor ${shown.supervisor?.process ?? 'unknown'}`,
    ...(shown.router ? health('nginx /health', shown.router.serving) : ['no router']),
    ...Object.values(shown.colors ?? {}).flatMap((color) => [
      ...health(`${color.color} on its port`, color.health),
      ...(color.replicaList ?? []).flatMap((replica) => health(`${replica.name} (${replica.process}, ${replica.phase})`, replica.health)),
    ]),
    ...shown.notes,
  ];
}
/**
 * How long a status may stay unhealthy after the supervisor saw every replica ready: a process its
 * probes find unready is killed after `unreadyLimitMs`; status's own probes give up after 3 s.
 */
const STATUS_SETTLES_MS = DEFAULT_SUPERVISOR.unreadyLimitMs + 2 * (DEFAULT_SUPERVISOR.probeIntervalMs + 3_000);

describeWithBinary(NGINX, 'nginx')('replicas of a color on the local stack (real nginx, real colors, under load)', () => {
  let stack: StackHarness;
  const status = async () => (await stack.cli('status', '--json')).json<{ result: StatusResult }>().result;
  const waitUntil = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000) => {
    const end = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
      await sleep(50);
    }
  };
  const supervised = (name: string) => readSupervisorStatus(stack.layout.supervisorStatusFile)?.processes[name];
  const restarts = () => readHistory(stack.layout.historyFile).entries.filter((entry) => entry.command === 'restart');

  beforeAll(async () => {
    stack = await StackHarness.create('replicas', { replicas: 2 });
    expect((await stack.up()).code).toBe(0);
  });
  afterEach(() => stopAllLoads());
  afterAll(async () => {
    if (stack) expect(await stack.destroy()).toEqual([]);
  });

  it('up runs every replica under the supervisor, and status shows each (pid, phase, health, version, restarts)', async () => {
    await waitUntil('the supervisor reports every replica ready', () =>
      ['blue', 'blue-2', 'green', 'green-2', 'nginx'].every((name) => supervised(name)?.phase === 'ready'),
    );
    const shown = await status();
    expect(unhealthyParts(shown)).toEqual([]);
    expect(shown.colors?.blue.replicas).toEqual({ ready: 2, desired: 2 });
    expect(shown.colors?.blue.replicaList).toEqual([
      {
        replica: 1,
        name: 'blue',
        process: 'running',
        pid: stack.pid('blue'),
        phase: 'ready',
        restarts: 0,
        health: expect.objectContaining({ ok: true, version: 'v1.0.0' }),
      },
      {
        replica: 2,
        name: 'blue-2',
        process: 'running',
        pid: stack.pid('blue-2'),
        phase: 'ready',
        restarts: 0,
        health: expect.objectContaining({ ok: true, version: 'v1.0.0' }),
      },
    ]);
    expect(shown.colors?.green.replicaList?.map((replica) => [replica.name, replica.health.version])).toEqual([
      ['green', 'v1.1.0'],
      ['green-2', 'v1.1.0'],
    ]);
    expect((await stack.cli('status')).stdout).toMatch(/blue-2 +pid \d+ +ready +ok v1\.0\.0/);
  });

  it(`given ${CLIENTS} keep-alive clients, when one live replica is killed (-9), and then the other once the first is back, then not one request fails and every answer is from the live color`, async () => {
    const load = keepAliveLoad({ port: stack.ports.router, clients: CLIENTS, path: '/predict', body: PREDICT, timeoutMs: 30_000 });
    await waitUntil('the load is flowing', () => load.count() > 500);
    for (const name of ['blue', 'blue-2'] as const) {
      const before = stack.pid(name) as number;
      const at = load.count();
      process.kill(before, 'SIGKILL');
      while (processControl.inspect(before)) await sleep(10);
      await waitUntil(`${name} is restarted and ready`, () => stack.pid(name) !== before && supervised(name)?.phase === 'ready');
      await waitUntil('a few hundred answers after it is back', () => load.count() > at + 500);
    }
    const report: LoadReport = await load.stop();
    process.stdout.write(
      `kill -9 of each live replica in turn: ${report.total} answers, ${report.failed.length} failed ${JSON.stringify(failureKinds(report))}\n`,
    );
    expect(report.total).toBeGreaterThan(1_500);
    expect(report.failed).toEqual([]);
    expect(report.seen.every((item) => item.color === 'blue')).toBe(true);
    // Healthy again: read until it is, within what the supervisor allows an unready process; what it said meanwhile is printed.
    const seen: string[][] = [];
    let shown = await status();
    for (const end = Date.now() + STATUS_SETTLES_MS; !shown.healthy && Date.now() < end; shown = await status())
      seen.push(unhealthyParts(shown));
    if (seen.length > 0) process.stdout.write(`status was not healthy ${seen.length} time(s) first: ${JSON.stringify(seen)}\n`);
    expect(unhealthyParts(shown)).toEqual([]);
    expect(shown.colors?.blue.replicaList?.map((replica) => [replica.name, replica.restarts])).toEqual([
      ['blue', 1],
      ['blue-2', 1],
    ]);
    expect(restarts().map((entry) => [entry.process, entry.outcome, entry.exit])).toEqual([
      ['blue', 'restarted', 'killed by SIGKILL'],
      ['blue-2', 'restarted', 'killed by SIGKILL'],
    ]);
  });

  it('given clients on the preview route, when a model is released to the idle color, then its replicas are replaced one by one and not one preview request fails', async () => {
    const before = [stack.pid('green'), stack.pid('green-2')];
    const load = keepAliveLoad({ port: stack.ports.router, clients: 8, path: '/preview/predict', body: PREDICT, timeoutMs: 30_000 });
    await waitUntil('the load is flowing', () => load.count() > 200);
    const release = await stack.cli('release', '--model=models/v1.0.0/model.onnx', '--json');
    await sleep(1_000);
    const report = await load.stop();
    expect(release.code).toBe(0);
    expect(release.json<{ result: { replicas: { name: string; pid: number }[] } }>().result.replicas.map((item) => item.name)).toEqual([
      'green',
      'green-2',
    ]);
    process.stdout.write(
      `release replica by replica: ${report.total} preview answers, ${report.failed.length} failed ${JSON.stringify(failureKinds(report))}\n`,
    );
    expect(report.failed).toEqual([]);
    expect(report.seen.every((item) => item.color === 'green')).toBe(true);
    expect([stack.pid('green'), stack.pid('green-2')].filter((pid, index) => pid === before[index])).toEqual([]);
    const shown = await status();
    expect(shown.colors?.green.replicaList?.map((replica) => replica.health.version)).toEqual(['v1.0.0', 'v1.0.0']);
    // A switch checks every replica of the target before it moves.
    const switched = await stack.cli('switch', '--color=green', '--json');
    expect(switched.code).toBe(0);
    expect(switched.json<{ result: { gates: { name: string; observed: string }[] } }>().result.gates).toContainEqual(
      expect.objectContaining({ name: 'replicas', observed: '2 of 2 replicas of green passed every gate' }),
    );
  });
});
