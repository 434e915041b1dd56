import { ROUTE_MOVE_BOUND_MS, ROUTER_CONNECTIONS } from '@mlbg/contract';
import { Agent, type RequestOptions, request } from 'node:http';
import { describeWithBinary, findBinary } from '../../testing/real-tools';
import { StackHarness } from '../../testing/stack-harness';

jest.setTimeout(120_000);
const NGINX = findBinary('nginx');
const PREDICT = JSON.stringify({ features: [[1], [2], [3]] });
/** Between the sequential client's requests: slow enough that nginx's keepalive_requests never recycles its connection during the test. */
const CLIENT_GAP_MS = 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  readonly status: number;
  readonly color: string | undefined;
  readonly reusedSocket: boolean;
}

function post(options: RequestOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ ...options, method: 'POST', path: '/predict', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, color: res.headers['x-color'] as string | undefined, reusedSocket: req.reusedSocket }),
      );
    });
    req.on('error', reject);
    req.end(PREDICT);
  });
}

describeWithBinary(NGINX, 'nginx')('kept connections between nginx and the colors (real nginx, real services)', () => {
  let stack: StackHarness;
  beforeAll(async () => {
    stack = await StackHarness.create('kept');
    expect((await stack.up()).code).toBe(0);
  });
  afterAll(async () => {
    if (stack) expect(await stack.destroy()).toEqual([]);
  });

  it(`given a keep-alive client through nginx, when traffic is switched, then every request sent after the switch returned (it waits out ${ROUTE_MOVE_BOUND_MS} ms from the move) reaches the new color`, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const answers: { sentAt: number; answer: Answer }[] = [];
    let running = true;
    const client = (async () => {
      while (running) {
        const sentAt = performance.now();
        answers.push({ sentAt, answer: await post({ host: '127.0.0.1', port: stack.ports.router, agent }) });
        await sleep(CLIENT_GAP_MS);
      }
    })();
    try {
      await sleep(300);
      const before = (await stack.serving()).color;
      const started = performance.now();
      const run = await stack.cli('switch');
      const switched = performance.now();
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      // The client keeps sending, on the same connection to nginx, for the bound and as long again.
      await sleep(2 * ROUTE_MOVE_BOUND_MS);
      running = false;
      await client;

      const after = answers.filter((item) => item.sentAt >= switched);
      const late = after.filter((item) => item.sentAt >= switched + ROUTE_MOVE_BOUND_MS);
      const lastOld = answers.filter((item) => item.answer.color === before).at(-1);
      console.log(
        `switch took ${Math.round(switched - started)} ms; the last request answered by ${before} was sent ${lastOld ? Math.round(lastOld.sentAt - started) : '-'} ms after it began; ` +
          `after it returned: ${after.length} requests, ${after.filter((item) => item.answer.color === before).length} answered by ${before}`,
      );
      expect(answers.every((item) => item.answer.status === 200)).toBe(true);
      expect(answers.filter((item) => item.sentAt < started).every((item) => item.answer.color === before)).toBe(true);
      expect(late.length).toBeGreaterThan(10);
      expect(after.filter((item) => item.answer.color === before)).toEqual([]);
      // Asked on its own socket as nginx asks (the kept connection above may instead have idled out,
      // which nginx does without a request), the old color retires the connection and counts it.
      const old = before as 'blue' | 'green';
      const retired = await new Promise<string | undefined>((resolve, reject) => {
        const req = request(
          {
            socketPath: stack.layout.replicaSocket(old, 1),
            path: '/health',
            headers: { [ROUTER_CONNECTIONS.ROUTE_SOCKET_HEADER]: 'live' },
            agent: false,
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.headers.connection));
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(retired).toBe('close');
      const metrics = await stack.request('GET', '/metrics', undefined, stack.ports[old]);
      expect(Number(/^router_connections_retired_total (\d+)$/m.exec(metrics.body)?.[1])).toBeGreaterThan(0);
      expect((await stack.request('GET', '/metrics')).status).toBe(404);
    } finally {
      running = false;
      await client;
      agent.destroy();
    }
  });

  it(`keeps an idle connection on a color's socket longer than nginx keeps it (${ROUTER_CONNECTIONS.ROUTER_KEEPALIVE_TIMEOUT_MS} ms), so nginx never reuses one the color is closing`, async () => {
    const live = (await stack.serving()).color as 'blue' | 'green';
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const direct = { socketPath: stack.layout.replicaSocket(live, 1), agent };
      expect(await post(direct)).toMatchObject({ status: 200, reusedSocket: false });
      await sleep(ROUTER_CONNECTIONS.ROUTER_KEEPALIVE_TIMEOUT_MS + 500);
      expect(await post(direct)).toMatchObject({ status: 200, color: live, reusedSocket: true });
    } finally {
      agent.destroy();
    }
  });

  it.each([-20, 0, 0, 20])(
    `given a connection through nginx idle for exactly nginx's keepalive_timeout (%i ms off), a POST on it is answered, never reset`,
    async (offset) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const router = { host: '127.0.0.1', port: stack.ports.router, agent };
        expect((await post(router)).status).toBe(200);
        await sleep(ROUTER_CONNECTIONS.ROUTER_KEEPALIVE_TIMEOUT_MS + offset);
        expect(await post(router)).toMatchObject({ status: 200, reusedSocket: true });
      } finally {
        agent.destroy();
      }
    },
  );
});
