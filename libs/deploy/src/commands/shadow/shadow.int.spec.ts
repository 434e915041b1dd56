import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PredictionsResponse } from '@mlbg/contract';
import { shadowPaths } from '../../backends/local/shadow/shadow';
import { httpClient, processControl } from '../../effects/real-deps';
import type { DiffResult } from './diff';
import type { ShadowResult } from './shadow';
import { readHistory } from '../../history/history';
import { describeWithBinary, findBinary } from '../../testing/real-tools';
import { StackHarness, WORKSPACE_ROOT } from '../../testing/stack-harness';

/**
 * Shadow traffic, the prediction records and the prediction-diff gate on the real local stack:
 * two built services (v1.0.0 and v1.1.0, which differ by design), the real nginx and its mirror,
 * the real relay. One stack for the file; the scenarios run in order.
 */
jest.setTimeout(120_000);
const NGINX = findBinary('nginx');
const REPLAY = 'models/replay/one-feature.jsonl';

interface ModelCard {
  transform: 'identity' | 'polynomial-2';
  weights: number[];
  bias: number;
}
const card = (version: string) => JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'models', version, 'model.json'), 'utf8')) as ModelCard;
/** The card's closed form for one feature, in float64. */
const predictWith = (model: ModelCard, x: number) =>
  (model.transform === 'polynomial-2' ? [x, x * x] : [x]).reduce((sum, value, i) => sum + (model.weights[i] ?? 0) * value, model.bias);

/** What v1.1.0 answers minus what v1.0.0 answers on every row of the replay file. */
function expectedDiffs(): number[] {
  const [v10, v11] = [card('v1.0.0'), card('v1.1.0')];
  return readFileSync(join(WORKSPACE_ROOT, REPLAY), 'utf8')
    .trim()
    .split('\n')
    .flatMap((line) =>
      (JSON.parse(line) as { features: number[][] }).features.map(([x]) => Math.abs(predictWith(v11, x ?? 0) - predictWith(v10, x ?? 0))),
    );
}

describeWithBinary(NGINX, 'nginx')('shadow traffic and the prediction diff (real nginx, real services, real relay)', () => {
  let stack: StackHarness;
  const shadowStatus = async () => (await stack.cli('shadow', 'status', '--json')).json<{ result: ShadowResult }>().result;
  const records = async (port: number) =>
    PredictionsResponse.parse(JSON.parse((await stack.request('GET', '/admin/predictions', undefined, port)).body));
  /** Every replica's records of a color (each records what it answered), on their own sockets. */
  const colorRecords = async (color: 'blue' | 'green') => {
    const each = await Promise.all(
      [1, 2].map(async (replica) =>
        PredictionsResponse.parse(
          JSON.parse(
            (await httpClient({ socketPath: stack.layout.replicaSocket(color, replica) }, { method: 'GET', path: '/admin/predictions' }))
              .body,
          ),
        ),
      ),
    );
    return { recorded: each.reduce((sum, item) => sum + item.recorded, 0), records: each.flatMap((item) => item.records) };
  };

  beforeAll(async () => {
    stack = await StackHarness.create('shadow');
    expect((await stack.up()).code).toBe(0);
  });
  afterAll(async () => {
    if (!stack) return;
    const relayPid = Number(readFileSync(shadowPaths(stack.layout).pidFile, { encoding: 'utf8', flag: 'a+' }) || 0);
    expect(await stack.destroy()).toEqual([]);
    if (relayPid > 0) expect(processControl.inspect(relayPid)).toBeUndefined();
  });

  it('nginx answers 404 for the admin route on every route; each color serves it on its own port', async () => {
    for (const path of [
      '/admin/predictions',
      '/preview/admin/predictions',
      '/admin/',
      '/admin',
      '//admin/predictions',
      '/%61dmin/predictions',
    ]) {
      const answer = await stack.request('GET', path);
      expect([path, answer.status, JSON.parse(answer.body).code]).toEqual([path, 404, 'INTERNAL_ROUTE']);
    }
    expect(await records(stack.ports.blue)).toMatchObject({ color: 'blue', version: 'v1.0.0', capacity: 1000 });
  });

  it('shadow off: live /predict answers, nothing reaches the idle color', async () => {
    const before = (await colorRecords('green')).recorded;
    const answer = await stack.request('POST', '/predict', { features: [[1]] });
    expect(answer.status).toBe(200);
    const live = (await colorRecords('blue')).records.find((record) => record.requestId === answer.headers['x-request-id']);
    expect(live).toMatchObject({ requestId: answer.headers['x-request-id'], shadow: false, rows: 1 });
    expect((await colorRecords('green')).recorded).toBe(before);
    // The mirror's failed connect to the missing link is not logged once per live request.
    const errorLog = join(stack.layout.nginxPrefix, 'error.log');
    const logSize = statSync(errorLog).size;
    for (let i = 0; i < 20; i += 1) expect((await stack.request('POST', '/predict', { features: [[1]] })).status).toBe(200);
    expect(readFileSync(errorLog, 'utf8').slice(logSize)).toBe('');
  });

  it('diff --replay: reports the real difference of v1.1.0 against v1.0.0', async () => {
    const run = await stack.cli('diff', `--replay=${REPLAY}`, '--json');
    expect(run.code).toBe(0);
    const { report } = run.json<{ result: DiffResult }>().result;
    const diffs = expectedDiffs();
    expect(report).toMatchObject({
      source: 'replay',
      pairs: 200,
      live: { color: 'blue', version: 'v1.0.0' },
      candidate: { color: 'green', version: 'v1.1.0' },
    });
    expect(report.absDiff?.values).toBe(diffs.length);
    // float32 inference against the float64 closed form
    expect(report.absDiff?.mean).toBeCloseTo(diffs.reduce((sum, value) => sum + value, 0) / diffs.length, 3);
    expect(report.absDiff?.max).toBeCloseTo(Math.max(...diffs), 3);
    expect(report.withinShare).toBeLessThan(0.05); // different by design: almost nothing is within 1e-3
    const text = await stack.cli('diff', `--replay=${REPLAY}`);
    expect(text.stdout).toContain('pairs compared');
    expect(text.stdout).toContain('|diff| histogram');
    expect(text.stdout).toMatch(/latency blue +mean/);
  });

  it('the prediction-diff gate: a tight tolerance refuses the switch, a loose one allows it', async () => {
    const max = Math.max(...expectedDiffs());
    const tight = await stack.cli('switch', '--color=green', `--replay=${REPLAY}`, '--max-diff=0.01', '--json');
    expect(tight.code).toBe(1);
    const refused = tight.json<{
      result: { kind: string; gates: { name: string; ok: boolean; observed: string }[] };
      error: { code: string };
    }>();
    expect(refused.error.code).toBe('PREFLIGHT_FAILED');
    expect(refused.result.kind).toBe('refused');
    expect(refused.result.gates.at(-1)).toMatchObject({
      name: 'prediction-diff',
      ok: false,
      observed: expect.stringContaining('of pairs within tolerance'),
    });
    expect((await stack.serving()).color).toBe('blue');

    const loose = await stack.cli(
      'switch',
      '--color=green',
      `--replay=${REPLAY}`,
      `--max-diff=${(max * 1.01).toFixed(4)}`,
      '--min-agreement=100%',
      '--min-pairs=200',
    );
    expect(loose.code).toBe(0);
    expect(loose.stdout).toContain('ok  200 pair(s) (replay) of green v1.1.0 against blue v1.0.0; 100.0% within tolerance');
    expect((await stack.serving()).color).toBe('green');
    expect((await stack.cli('switch', '--color=blue')).code).toBe(0);
  });

  it("the prediction-diff gate at a canary's start: a tight tolerance refuses it and no weight moves", async () => {
    const tight = await stack.cli(
      'canary',
      '--color=green',
      '--steps=25,100',
      '--interval=1s',
      `--replay=${REPLAY}`,
      '--max-diff=0.01',
      '--json',
    );
    expect(tight.code).toBe(1);
    const refused = tight.json<{ result: { kind: string; weight: number; gates: { name: string; ok: boolean }[] } }>();
    expect(refused.result).toMatchObject({ kind: 'refused', weight: 0 });
    expect(refused.result.gates.at(-1)).toMatchObject({ name: 'prediction-diff', ok: false });
    expect(
      (await stack.cli('status', '--json')).json<{ result: { routes: { live: { blue: number; green: number } } } }>().result.routes.live,
    ).toEqual({ blue: 100, green: 0 });
  });

  it('too few pairs is a refusal, not a pass', async () => {
    const run = await stack.cli('switch', '--color=green', '--max-diff=100', '--min-pairs=1000000', '--json');
    expect(run.code).toBe(1);
    expect(run.json<{ result: { gates: { observed: string }[] } }>().result.gates.at(-1)?.observed).toMatch(
      /only \d+ pair\(s\) to compare, at least 1000000 needed/,
    );
    expect((await stack.serving()).color).toBe('blue');
  });

  it('shadow on: nginx mirrors live /predict to the idle color with the same request id; diff joins them', async () => {
    const on = await stack.cli('shadow', 'on', '--json');
    expect(on.code).toBe(0);
    expect(on.json<{ result: ShadowResult }>().result).toMatchObject({ on: true, percent: 100 });
    const sent = 60;
    const ids: string[] = [];
    for (let i = 0; i < sent; i += 1) {
      const answer = await stack.request('POST', '/predict', { features: [[i / 10], [i / 5]] });
      expect(answer.status).toBe(200);
      expect(answer.headers['x-color']).toBe('blue');
      ids.push(answer.headers['x-request-id'] ?? '');
    }
    // Every copy nginx handed the relay is accounted for (forwarded, failed or dropped) before we read.
    const deadline = Date.now() + 30_000;
    let relay = (await stack.cli('shadow', 'status', '--json')).json<{ result: ShadowResult }>().result.relay;
    while (
      relay &&
      (relay.received < sent || relay.forwarded + relay.failed + relay.dropped + relay.sampledOut < relay.received) &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      relay = (await stack.cli('shadow', 'status', '--json')).json<{ result: ShadowResult }>().result.relay;
    }
    expect(relay).toMatchObject({ received: sent, forwarded: sent, dropped: 0, failed: 0 });
    // The copies went to green's replicas in turn: every id is on one of them.
    const green = await colorRecords('green');
    const shadowIds = green.records.filter((record) => record.shadow).map((record) => record.requestId);
    expect(ids.filter((id) => !shadowIds.includes(id))).toEqual([]);
    expect(new Set(shadowIds.filter((id) => ids.includes(id))).size).toBe(sent);

    const diff = await stack.cli('diff', '--json', '--min-pairs=60', '--max-diff=100', '--min-agreement=1');
    expect(diff.code).toBe(0);
    const { report } = diff.json<{ result: DiffResult }>().result;
    expect(report).toMatchObject({ source: 'shadow', pairs: sent, inputMismatches: 0 });
    expect(report.latencyMs.live?.mean).toBeGreaterThan(0);
    expect(report.latencyMs.candidate?.mean).toBeGreaterThan(0);
    const status = await stack.cli('status');
    expect(status.stdout).toMatch(/Shadow: ON, 100% of live \/predict mirrored .*forwarded 60/);
  });

  it('the relay killed (-9): no live request fails; the supervisor restarts it (status and the history say so) and it mirrors again', async () => {
    const pid = stack.pid('shadow-relay') as number;
    // A new percent on the running relay: the restarted one must keep it.
    expect((await stack.cli('shadow', 'on', '--percent=40')).code).toBe(0);
    expect(stack.pid('shadow-relay')).toBe(pid);
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (processControl.inspect(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(existsSync(shadowPaths(stack.layout).link)).toBe(true);
    // While it is down and while it starts again: nginx answers its copies itself, never the client.
    let restarted: number | undefined;
    for (let i = 0; i < 2_000 && restarted === undefined; i += 1) {
      expect((await stack.request('POST', '/predict', { features: [[1]] })).status).toBe(200);
      const relay = (await shadowStatus()).relay;
      if (relay !== null && stack.pid('shadow-relay') !== pid) restarted = stack.pid('shadow-relay');
    }
    expect(restarted).toEqual(expect.any(Number));
    const status = (await stack.cli('status', '--json')).json<{
      result: { supervisor: { processes: Record<string, { phase: string; restarts: number; lastExit: { reason: string } | null }> } };
    }>().result;
    expect(status.supervisor.processes['shadow-relay']).toMatchObject({ restarts: 1, lastExit: { reason: 'killed by SIGKILL' } });
    expect((await stack.cli('status')).stdout).toMatch(
      /shadow-relay +(starting|ready) \(pid \d+\), 1 restart\(s\), last exit .*killed by SIGKILL/,
    );
    expect(
      readHistory(stack.layout.historyFile)
        .entries.filter((entry) => entry.command === 'restart')
        .at(-1),
    ).toMatchObject({ process: 'shadow-relay', outcome: 'restarted', exit: 'killed by SIGKILL' });
    // The new relay runs with the percent the old one had, and copies reach the idle color again.
    expect((await shadowStatus()).percent).toBe(40);
    expect((await stack.cli('shadow', 'on')).code).toBe(0);
    // Counted from here: the new relay may have received copies at 40% before, not all of them forwarded.
    const relay = (await shadowStatus()).relay;
    const before = { received: relay?.received ?? 0, forwarded: relay?.forwarded ?? 0 };
    for (let i = 0; i < 10; i += 1) expect((await stack.request('POST', '/predict', { features: [[2]] })).status).toBe(200);
    const end = Date.now() + 10_000;
    while (((await shadowStatus()).relay?.forwarded ?? 0) < before.forwarded + 10 && Date.now() < end)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await shadowStatus()).relay).toMatchObject({ percent: 100, received: before.received + 10, forwarded: before.forwarded + 10 });
  });

  it('shadow on again, then off: the link goes, the relay stops, live traffic goes on; both are in the history', async () => {
    expect((await stack.cli('shadow', 'on', '--percent=50')).code).toBe(0);
    const pid = Number(readFileSync(shadowPaths(stack.layout).pidFile, 'utf8'));
    const off = await stack.cli('shadow', 'off');
    expect(off.code).toBe(0);
    expect(off.stdout).toContain('Shadow: off');
    expect(existsSync(shadowPaths(stack.layout).link)).toBe(false);
    expect(processControl.inspect(pid)).toBeUndefined();
    expect((await stack.request('POST', '/predict', { features: [[1]] })).status).toBe(200);
    const entries = readHistory(stack.layout.historyFile).entries.filter((entry) => entry.command === 'shadow');
    expect(entries.map((entry) => [entry.outcome, entry.command === 'shadow' ? entry.percent : null])).toEqual([
      ['on', 100],
      ['on', 40],
      ['on', 100],
      ['on', 50],
      ['off', null],
    ]);
  });

  it('capture: writes the next N live bodies (mirror on for the capture only), and diff replays them', async () => {
    const out = join(stack.stateDir, 'captured.jsonl');
    const capture = stack.cli('capture', '--n=30', `--out=${out}`, '--timeout=60', '--json');
    const bodies: string[] = [];
    // Live traffic until the capture is done (the capture waits for 30 bodies, bounded by its timeout).
    let done = false;
    void capture.then(() => (done = true));
    for (let i = 0; !done && i < 2000; i += 1) {
      const body = { features: [[i / 7]] };
      expect((await stack.request('POST', '/predict', body)).status).toBe(200);
      bodies.push(JSON.stringify(body));
    }
    const result = await capture;
    expect(result.code).toBe(0);
    expect(result.json<{ result: { captured: number; shadowWasOff: boolean } }>().result).toMatchObject({
      captured: 30,
      shadowWasOff: true,
    });
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(30);
    for (const line of lines) expect(bodies).toContain(line);
    expect(existsSync(shadowPaths(stack.layout).link)).toBe(false);
    const replay = await stack.cli('diff', `--replay=${out}`, '--json');
    expect(replay.json<{ result: DiffResult }>().result.report.pairs).toBe(30);
  });

  it('down with shadow on: stops the supervisor first, then nginx, the colors (every replica) and the relay', async () => {
    expect((await stack.cli('shadow', 'on')).code).toBe(0);
    const names = ['supervisor', 'nginx', 'blue', 'blue-2', 'green', 'green-2', 'shadow-relay'] as const;
    const pids = names.map((name) => stack.pid(name));
    const down = await stack.cli('down', '--json');
    expect(down.code).toBe(0);
    const { processes } = down.json<{ result: { processes: { name: string; pid: number; result: string }[] } }>().result;
    expect(processes.map((item) => [item.name, item.pid, item.result])).toEqual(names.map((name, index) => [name, pids[index], 'stopped']));
    expect(await stack.leftovers()).toEqual([]);
    expect((await stack.up()).code).toBe(0);
  });

  it('shadow: bad usage is exit 2 and changes nothing', async () => {
    expect((await stack.cli('shadow', 'sideways')).code).toBe(2);
    expect((await stack.cli('shadow', 'on', '--percent=150')).code).toBe(2);
    expect((await stack.cli('diff', '--replay=does-not-exist.jsonl')).stderr).toContain('The replay file can not be used');
    expect((await stack.cli('capture', '--n=20000', '--out=x.jsonl')).code).toBe(2);
    expect((await stack.cli('capture', '--out=x.jsonl')).code).toBe(2);
  });
});
