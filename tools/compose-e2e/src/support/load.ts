import { Agent, request } from 'node:http';
import { PREDICT_BODY } from './http';

/** What the clients saw: every response counted, by status, color and version. */
export interface LoadReport {
  readonly requests: number;
  readonly failed: number;
  readonly byStatus: Record<string, number>;
  readonly byColorVersion: Record<string, number>;
  /** The first few failures, as text. */
  readonly failures: string[];
  /** When (ms since the epoch) each 200 came back, and which color (x-color) answered it: a share over any window. */
  readonly answered: readonly (readonly [at: number, color: string])[];
}

/** How many of the 200s answered in [fromMs, toMs] came from `color`, of how many. */
export function answeredBetween(report: LoadReport, fromMs: number, toMs: number, color: string): { total: number; by: number } {
  const inWindow = report.answered.filter(([at]) => at >= fromMs && at <= toMs);
  return { total: inWindow.length, by: inWindow.filter(([, answeredBy]) => answeredBy === color).length };
}

/**
 * `connections` keep-alive clients sending the seed's POST /predict through nginx as fast as it
 * answers, until `stop()`. A failure is a socket error, a timeout or anything but 200.
 */
export function startLoad(port: number, connections = 32): { stop(): Promise<LoadReport> } {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const byStatus: Record<string, number> = {};
  const byColorVersion: Record<string, number> = {};
  const failures: string[] = [];
  const answered: [number, string][] = [];
  let requests = 0;
  let failed = 0;
  let running = true;
  const count = (map: Record<string, number>, key: string) => (map[key] = (map[key] ?? 0) + 1);
  const fail = (what: string) => {
    failed += 1;
    if (failures.length < 10) failures.push(what);
  };

  const once = () =>
    new Promise<void>((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/predict',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(PREDICT_BODY) },
          timeout: 10_000,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            requests += 1;
            count(byStatus, String(res.statusCode));
            count(byColorVersion, `${res.headers['x-color']} ${res.headers['x-model-version']}`);
            if (res.statusCode !== 200) fail(`HTTP ${res.statusCode}: ${body.slice(0, 200)}`);
            else answered.push([Date.now(), String(res.headers['x-color'])]);
            resolve();
          });
          res.on('error', (error) => {
            requests += 1;
            fail(`response: ${error.message}`);
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
      req.on('error', (error) => {
        requests += 1;
        count(byStatus, 'error');
        fail(`request: ${error.message}`);
        resolve();
      });
      req.end(PREDICT_BODY);
    });

  const client = async () => {
    while (running) await once();
  };
  const clients = Array.from({ length: connections }, client);
  return {
    async stop() {
      running = false;
      await Promise.all(clients);
      agent.destroy();
      return { requests, failed, byStatus, byColorVersion, failures, answered };
    },
  };
}
