import { describeWithBinary, findBinary } from '../testing/real-tools';
import { StackHarness } from '../testing/stack-harness';
import { moves, readHistory } from '../history/history';

// autocannon ships no types; these are the parts this test uses.
interface AutocannonResult {
  readonly requests: { readonly total: number };
  readonly '2xx': number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly resets: number;
  readonly mismatches: number;
}
type Autocannon = (options: Record<string, unknown>, done: (error: Error | null, result: AutocannonResult) => void) => { stop(): void };
const autocannon = require('autocannon') as Autocannon;

jest.setTimeout(120_000);
const NGINX = findBinary('nginx');
const SWITCHES = 20;
const CONNECTIONS = 32;
const PREDICT = JSON.stringify({ features: [[1], [2], [3]] });
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

  it(`given ${CONNECTIONS} keep-alive clients POSTing /predict through nginx, when traffic is switched ${SWITCHES} times, then every response is a 2xx and no socket fails`, async () => {
    const versions = new Map<string, number>();
    let responses = 0;
    let notOk = 0;
    let instance: { stop(): void } | undefined;
    const finished = new Promise<AutocannonResult>((resolve, reject) => {
      instance = autocannon(
        {
          url: `http://127.0.0.1:${stack.ports.router}`,
          connections: CONNECTIONS,
          pipelining: 1,
          // nginx closes a client connection after 1,000 requests (keepalive_requests) and autocannon
          // does not read `Connection: close`: reconnecting first keeps a client-side artefact out of the count.
          reconnectRate: 999,
          duration: MAX_LOAD_SECONDS,
          timeout: 10,
          requests: [
            {
              method: 'POST',
              path: '/predict',
              headers: { 'content-type': 'application/json' },
              body: PREDICT,
              onResponse: (status: number, body: string) => {
                responses += 1;
                if (status < 200 || status >= 300) notOk += 1;
                const version = /"model_version":"([^"]+)"/.exec(body)?.[1] ?? `(status ${status})`;
                versions.set(version, (versions.get(version) ?? 0) + 1);
              },
            },
          ],
        },
        (error, result) => (error ? reject(error) : resolve(result)),
      );
    });

    await sleep(500);
    const live: string[] = [];
    for (let count = 1; count <= SWITCHES; count += 1) {
      const run = await stack.cli('switch');
      expect({ count, code: run.code, stderr: run.stderr }).toEqual({ count, code: 0, stderr: '' });
      live.push((await stack.serving()).color ?? '?');
      await sleep(100);
    }
    await sleep(300);
    instance?.stop();
    const result = await finished;

    const seen = [...versions.entries()].map(([version, count]) => `${version}: ${count}`).join(', ');
    console.log(
      `switch under load: checked ${responses} responses (${result.requests.total} requests by autocannon) over ${SWITCHES} switches with ${CONNECTIONS} keep-alive connections: ` +
        `${result['2xx']} 2xx, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts, ${result.resets} resets (${seen})`,
    );
    expect({ errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, resets: result.resets, mismatches: result.mismatches, notOk }).toEqual({
      errors: 0,
      timeouts: 0,
      non2xx: 0,
      resets: 0,
      mismatches: 0,
      notOk: 0,
    });
    expect(responses).toBeGreaterThan(1_000);
    expect(result['2xx']).toBe(result.requests.total);
    expect([...versions.keys()].sort()).toEqual(['v1.0.0', 'v1.1.0']);
    expect(live).toEqual(Array.from({ length: SWITCHES }, (_, index) => (index % 2 === 0 ? 'green' : 'blue')));
    const entries = moves(readHistory(stack.layout.historyFile).entries, 'local');
    expect(entries).toHaveLength(SWITCHES);
    expect(entries.every((entry) => entry.outcome === 'switched')).toBe(true);
  });
});
