/**
 * The soak's load process (see soak.ts): `clients` keep-alive clients POST the 3-row /predict through
 * nginx without pause, each waiting for its answer before sending again. Every answer is counted in
 * the phase the soak says it is in (IPC `phase`), with its latency and, when it failed, its kind:
 * the router's JSON error code, `HTTP <status>`, or the socket error. In a process of its own, so
 * the soak's commands never delay the load and the load never delays them.
 */
import { Agent, request } from 'node:http';
import { LatencyHistogram, type LatencySummary } from './latency';

/** A request that gets no answer in this time is a failure (`CLIENT_TIMEOUT`). */
const REQUEST_TIMEOUT_MS = 30_000;
/** Failures kept one by one, with their time, for the report (the counts cover them all). */
const FAILURES_KEPT = 2_000;

export type ToSoakWorker =
  | { readonly type: 'start'; readonly url: string; readonly body: string; readonly clients: number; readonly phase: string }
  | { readonly type: 'phase'; readonly phase: string }
  | { readonly type: 'count' }
  | { readonly type: 'stop' };

export interface PhaseReport {
  readonly phase: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly requests: number;
  readonly failed: number;
  readonly kinds: Readonly<Record<string, number>>;
  readonly versions: Readonly<Record<string, number>>;
  readonly latency: LatencySummary;
}

/** One failed request: when it was answered (ms since the epoch), how long it waited, and why. */
export interface FailureRecord {
  readonly at: number;
  readonly waitedMs: number;
  readonly kind: string;
}

export type FromSoakWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'count'; readonly requests: number; readonly failed: number }
  | {
      readonly type: 'report';
      readonly phases: readonly PhaseReport[];
      readonly failures: readonly FailureRecord[];
      readonly failuresDropped: number;
    };

interface Phase {
  readonly name: string;
  readonly startedAt: number;
  endedAt: number;
  requests: number;
  failed: number;
  readonly kinds: Record<string, number>;
  readonly versions: Record<string, number>;
  readonly latency: LatencyHistogram;
}

function newPhase(name: string): Phase {
  return { name, startedAt: Date.now(), endedAt: 0, requests: 0, failed: 0, kinds: {}, versions: {}, latency: new LatencyHistogram() };
}

let sending = false;
let clients: Promise<void>[] = [];
let agent: Agent | undefined;
const phases: Phase[] = [];
const failures: FailureRecord[] = [];
let failuresDropped = 0;
let total = 0;
let failedTotal = 0;

function reply(message: FromSoakWorker): void {
  if (process.connected) process.send?.(message);
}

function current(): Phase {
  return phases[phases.length - 1] as Phase;
}

function count(waitedMs: number, kind: string | undefined, version: string | undefined): void {
  const phase = current();
  phase.requests += 1;
  total += 1;
  phase.latency.record(waitedMs);
  if (version) phase.versions[version] = (phase.versions[version] ?? 0) + 1;
  if (kind === undefined) return;
  phase.failed += 1;
  failedTotal += 1;
  phase.kinds[kind] = (phase.kinds[kind] ?? 0) + 1;
  if (failures.length < FAILURES_KEPT) failures.push({ at: Date.now(), waitedMs: Math.round(waitedMs), kind });
  else failuresDropped += 1;
}

function one(url: URL, body: string): Promise<void> {
  return new Promise((resolve) => {
    const sent = performance.now();
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          const version = res.headers['x-model-version'];
          count(
            performance.now() - sent,
            ok ? undefined : (/"code":"([A-Z_]+)"/.exec(text)?.[1] ?? `HTTP ${status}`),
            typeof version === 'string' ? version : undefined,
          );
          resolve();
        });
        res.on('error', (error: NodeJS.ErrnoException) => {
          count(performance.now() - sent, error.code ?? error.message, undefined);
          resolve();
        });
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(Object.assign(new Error('timeout'), { code: 'CLIENT_TIMEOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => {
      count(performance.now() - sent, error.code ?? error.message, undefined);
      resolve();
    });
    req.end(body);
  });
}

function start(message: Extract<ToSoakWorker, { type: 'start' }>): void {
  const url = new URL(message.url);
  agent = new Agent({ keepAlive: true, maxSockets: message.clients });
  phases.push(newPhase(message.phase));
  sending = true;
  const client = async () => {
    while (sending) await one(url, message.body);
  };
  clients = Array.from({ length: message.clients }, () => client());
}

async function stop(): Promise<void> {
  sending = false;
  await Promise.all(clients);
  agent?.destroy();
  current().endedAt = Date.now();
  reply({
    type: 'report',
    phases: phases.map((phase) => ({
      phase: phase.name,
      startedAt: phase.startedAt,
      endedAt: phase.endedAt,
      requests: phase.requests,
      failed: phase.failed,
      kinds: phase.kinds,
      versions: phase.versions,
      latency: phase.latency.summary(),
    })),
    failures,
    failuresDropped,
  });
}

process.on('message', (message: ToSoakWorker) => {
  switch (message.type) {
    case 'start':
      return start(message);
    case 'phase':
      current().endedAt = Date.now();
      phases.push(newPhase(message.phase));
      return;
    case 'count':
      return reply({ type: 'count', requests: total, failed: failedTotal });
    case 'stop':
      void stop().then(() => process.exit(0));
      return;
    default: {
      const unreachable: never = message;
      return unreachable;
    }
  }
});
// The soak is gone (it crashed or was killed): stop loading and leave.
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => undefined); // the soak decides when this process ends
reply({ type: 'ready' });
