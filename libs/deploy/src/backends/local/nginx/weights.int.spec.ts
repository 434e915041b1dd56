import { ROUTE_MOVE_BOUND_MS } from '@mlbg/contract';
import { setTimeout as sleep } from 'node:timers/promises';
import { localBackend } from '../local-backend';
import { realDeps } from '../../../effects/real-deps';
import { describeWithBinary, findBinary } from '../../../testing/real-tools';
import { StackHarness, WORKSPACE_ROOT } from '../../../testing/stack-harness';
import { since, snapshot, startLoad } from '../../../testing/load';
import { routesWithLive } from '../../../routing/routes';

jest.setTimeout(180_000);
const NGINX = findBinary('nginx');
const CONNECTIONS = 32;
/** Green's weight at each step; back to 0 at the end. */
const STEPS = [5, 25, 50, 75, 100, 25, 0];
/**
 * nginx picks a slot at random per request (split_clients over the request id), so a step's share is
 * binomial: with 10,000 answers its standard deviation is at most 0.5 points, and 2 points is 4 of them.
 */
const PER_STEP = 10_000;
/**
 * Responses right after a move may have been sent before it, or on a connection nginx kept to a
 * color whose slot just moved away (each carries one more answer once the color has seen the move,
 * an idle one is closed by nginx): not counted for the new step. The bound the system guarantees is
 * ROUTE_MOVE_BOUND_MS, then the requests in flight.
 */
const SETTLE = 2 * CONNECTIONS;
const MAX_LOAD_SECONDS = 170;

describeWithBinary(NGINX, 'nginx')('weighted live route under load (real nginx, real colors, 20 slot links)', () => {
  let stack: StackHarness;
  beforeAll(async () => {
    stack = await StackHarness.create('weights');
    expect((await stack.up()).code).toBe(0);
  });
  afterAll(async () => {
    if (stack) expect(await stack.destroy()).toEqual([]);
  });

  it(`given ${CONNECTIONS} keep-alive clients, when green's weight moves through ${STEPS.join(', ')}%, then no request fails and each step's observed share is within 2 points`, async () => {
    const backend = localBackend(realDeps({ workspaceRoot: WORKSPACE_ROOT, env: process.env, progress: () => undefined }), stack.layout);
    const load = startLoad(`http://127.0.0.1:${stack.ports.router}`, { connections: CONNECTIONS, maxSeconds: MAX_LOAD_SECONDS });
    const observed: { green: number; share: number; responses: number; moveMs: number }[] = [];
    let stopped: ReturnType<typeof load.stop> | undefined;
    try {
      await load.waitFor(500);
      for (const green of STEPS) {
        const started = performance.now();
        await backend.setRoutes({ live: { blue: 100 - green, green }, preview: routesWithLive(green === 100 ? 'green' : 'blue').preview });
        const moveMs = performance.now() - started;
        expect(await backend.readRoutes()).toMatchObject({ live: { blue: 100 - green, green } });
        await sleep(ROUTE_MOVE_BOUND_MS);
        await load.waitFor(load.counts.total + SETTLE);
        const before = snapshot(load.counts);
        await load.waitFor(before.total + PER_STEP);
        const step = since(before, load.counts);
        observed.push({ green, share: (step.byVersion.get('v1.1.0') ?? 0) / step.total, responses: step.total, moveMs });
      }
    } finally {
      stopped = load.stop();
    }
    const result = await stopped;
    console.log(
      `weights under load: ${observed.map((step) => `green ${step.green}%: ${(100 * step.share).toFixed(2)}% of ${step.responses} (move ${step.moveMs.toFixed(1)} ms)`).join('; ')}; ${result.requests.total} requests, ${result.errors} errors, ${result.non2xx} non-2xx`,
    );
    expect({
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      resets: result.resets,
      notOk: load.counts.notOk,
    }).toEqual({ errors: 0, timeouts: 0, non2xx: 0, resets: 0, notOk: 0 });
    for (const step of observed)
      expect({ green: step.green, share: Math.abs(100 * step.share - step.green) <= 2 }).toEqual({ green: step.green, share: true });
    expect(observed.every((step) => step.responses >= PER_STEP)).toBe(true);
  });
});
