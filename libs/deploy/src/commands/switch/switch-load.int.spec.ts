import { describeWithBinary, findBinary } from '../../testing/real-tools';
import { StackHarness } from '../../testing/stack-harness';
import { moves, readHistory } from '../../history/history';
import { type AutocannonResult, startLoad } from '../../testing/load';

jest.setTimeout(180_000);
const NGINX = findBinary('nginx');
const SWITCHES = 20;
const CONNECTIONS = 32;
const MODELS = { blue: 'models/v1.0.0/model.onnx', green: 'models/v1.1.0/model.onnx' } as const;
/** An upper bound on the load: it is stopped as soon as the switches are done. */
const MAX_LOAD_SECONDS = 90;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithBinary(NGINX, 'nginx')('switching under load (real nginx, real services, autocannon)', () => {
  let stack: StackHarness;
  beforeAll(async () => {
    stack = await StackHarness.create('load');
    expect((await stack.up()).code).toBe(0);
  });
  afterAll(async () => {
    if (stack) expect(await stack.destroy()).toEqual([]);
  });

  interface LoadCount {
    readonly result: AutocannonResult;
    readonly responses: number;
    readonly notOk: number;
    readonly versions: Map<string, number>;
  }

  /** Runs `action` while `connections` keep-alive clients POST /predict through nginx; counts every response. */
  async function underLoad(connections: number, action: () => Promise<void>): Promise<LoadCount> {
    const load = startLoad(`http://127.0.0.1:${stack.ports.router}`, { connections, maxSeconds: MAX_LOAD_SECONDS });
    let result: AutocannonResult;
    try {
      await sleep(500);
      await action();
      await sleep(300);
    } finally {
      result = await load.stop();
    }
    return { result, responses: load.counts.total, notOk: load.counts.notOk, versions: load.counts.byVersion };
  }

  function expectNothingLost(what: string, { result, responses, notOk, versions }: LoadCount): void {
    const seen = [...versions.entries()].map(([version, count]) => `${version}: ${count}`).join(', ');
    console.log(
      `${what}: checked ${responses} responses (${result.requests.total} requests by autocannon): ` +
        `${result['2xx']} 2xx, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts, ${result.resets} resets (${seen})`,
    );
    expect({
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      resets: result.resets,
      mismatches: result.mismatches,
      notOk,
    }).toEqual({
      errors: 0,
      timeouts: 0,
      non2xx: 0,
      resets: 0,
      mismatches: 0,
      notOk: 0,
    });
    expect(responses).toBeGreaterThan(1_000);
    expect(result['2xx']).toBe(result.requests.total);
  }

  let switchesBefore = 0;
  it.each([32, 64])(
    `given %i keep-alive clients POSTing /predict through nginx (upstream keepalive on), when traffic is switched ${SWITCHES} times, then every response is a 2xx and no socket fails`,
    async (connections) => {
      const live: string[] = [];
      const first = (await stack.serving()).color;
      const count = await underLoad(connections, async () => {
        for (let index = 1; index <= SWITCHES; index += 1) {
          const run = await stack.cli('switch');
          expect({ index, code: run.code, stderr: run.stderr }).toEqual({ index, code: 0, stderr: '' });
          live.push((await stack.serving()).color ?? '?');
          await sleep(100);
        }
      });
      expectNothingLost(`switch under load, ${SWITCHES} switches with ${connections} keep-alive connections`, count);
      expect([...count.versions.keys()].sort()).toEqual(['v1.0.0', 'v1.1.0']);
      const other = first === 'blue' ? 'green' : 'blue';
      expect(live).toEqual(Array.from({ length: SWITCHES }, (_, index) => (index % 2 === 0 ? other : first)));
      const entries = moves(readHistory(stack.layout.historyFile).entries, 'local');
      expect(entries).toHaveLength(switchesBefore + SWITCHES);
      expect(entries.every((entry) => entry.outcome === 'switched')).toBe(true);
      switchesBefore = entries.length;
    },
  );

  it(`given shadow traffic on (live /predict mirrored to the idle color) and ${CONNECTIONS} keep-alive clients, when traffic is switched ${SWITCHES} times, then nothing is lost`, async () => {
    const on = await stack.cli('shadow', 'on');
    expect({ code: on.code, stderr: on.stderr }).toEqual({ code: 0, stderr: '' });
    try {
      const count = await underLoad(CONNECTIONS, async () => {
        for (let index = 1; index <= SWITCHES; index += 1) {
          const run = await stack.cli('switch');
          expect({ index, code: run.code, stderr: run.stderr }).toEqual({ index, code: 0, stderr: '' });
          await sleep(100);
        }
      });
      expectNothingLost(`switch under load with shadow on, ${SWITCHES} switches with ${CONNECTIONS} keep-alive connections`, count);
    } finally {
      expect((await stack.cli('shadow', 'off')).code).toBe(0);
    }
  });

  it(`given ${CONNECTIONS} keep-alive clients, when the color that was live a moment ago is switched away from and released (stopped and started again), then nothing is lost`, async () => {
    const count = await underLoad(CONNECTIONS, async () => {
      const wasLive = (await stack.serving()).color as 'blue' | 'green';
      expect((await stack.cli('switch')).code).toBe(0);
      // At once, while nginx still holds kept connections to it: the color waits until nginx let go of them.
      const release = await stack.cli('release', `--model=${MODELS[wasLive]}`);
      expect({ code: release.code, stderr: release.stderr }).toEqual({ code: 0, stderr: '' });
      expect((await stack.serving('/preview/health')).color).toBe(wasLive);
    });
    expectNothingLost(`switch, then release of the color that was live, with ${CONNECTIONS} keep-alive connections`, count);
  });
});
