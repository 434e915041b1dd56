import { type RelayStatus, SHADOW_HEADER } from '@mlbg/contract';
import { RELAY_STATUS_PATH } from '../../../../spec/sockets';
import { createWriteStream, type WriteStream } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from 'node:http';

/**
 * The shadow relay: the target of nginx's `mirror`. nginx holds the client's request until its
 * mirror subrequest is answered, so the relay answers 204 as soon as it has read the body, and only
 * then forwards a sample of the copies to the idle color, from a bounded queue that drops (and
 * counts) when full. Written on plain node:http: it is a few dozen lines, and a proxy library would
 * bring keep-alive pools that pin connections to a color a switch has since moved away from.
 */

/** Control routes on the relay's own socket; nginx only ever sends it /predict and V2 infer copies. */
export { RELAY_STATUS_PATH };
export const RELAY_CONFIG_PATH = '/_relay/config';
/** `{"file": "/abs/out.jsonl", "n": 1000}` starts writing the next n bodies there (one JSON line each); `{"n": 0}` stops. */
export const RELAY_CAPTURE_PATH = '/_relay/capture';
/** Bodies one capture writes at most (a replay sends at most as many). */
export const MAX_CAPTURE_BODIES = 10_000;

export interface RelayOptions {
  /**
   * Where copies go, taken in turn: on the local stack every replica of the idle color through the
   * stack's `preview` link (`<socketDir>/preview/r1.sock`, ...), so they follow every switch; on
   * Kubernetes the preview Service's URL (`http://ml-preview:80`).
   */
  readonly targetSockets: readonly string[];
  /** 0..100: the share of copies forwarded (the rest are counted as sampled out). */
  percent: number;
  readonly queueSize: number;
  /** Copies in flight to the idle color at once. */
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** For tests: the sampling draw, 0 <= x < 1. */
  readonly random?: () => number;
}

/** What `GET /_relay/status` answers: the contract's (the deploy CLI reads it from another process). */
export type { RelayStatus } from '@mlbg/contract';
/** The counters the relay keeps: received, sampledOut, dropped, forwarded, failed and the last error. */
type RelayCounters = Pick<RelayStatus, 'received' | 'sampledOut' | 'dropped' | 'forwarded' | 'failed' | 'lastError'>;

interface Copy {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** Headers a copy keeps: what the color needs to answer it and to record it as shadow. */
const FORWARDED_HEADERS = ['content-type', 'x-request-id', SHADOW_HEADER, 'host'] as const;

/**
 * The requests whose copies are forwarded: POST /predict and V2 inference. nginx mirrors only
 * those; a Gateway's RequestMirror copies everything its rule matches (all of /v2/models/), so the
 * rest is answered and dropped here, uncounted.
 */
export function isPrediction(method: string | undefined, path: string | undefined): boolean {
  if (method !== 'POST' || !path) return false;
  const route = path.split('?')[0] ?? '';
  return route === '/predict' || /^\/v2\/models\/[^/]+(\/versions\/[^/]+)?\/infer$/.test(route);
}

/** `http://host:port` as a request target; undefined for a socket path. */
function urlTarget(target: string): { host: string; port: number } | undefined {
  if (!target.startsWith('http://')) return undefined;
  const url = new URL(target);
  return { host: url.hostname, port: Number(url.port || 80) };
}

export function createRelay(options: RelayOptions): { server: Server; status: () => RelayStatus } {
  const random = options.random ?? Math.random;
  const counters: RelayCounters = { received: 0, sampledOut: 0, dropped: 0, forwarded: 0, failed: 0, lastError: null };
  const queue: Copy[] = [];
  let inFlight = 0;
  let capture: { file: string; n: number; captured: number; out: WriteStream | null } | null = null;

  const status = (): RelayStatus => ({
    ...counters,
    percent: options.percent,
    queueSize: options.queueSize,
    queued: queue.length,
    inFlight,
    targetSockets: [...options.targetSockets],
    capture: capture ? { file: capture.file, n: capture.n, captured: capture.captured, active: capture.out !== null } : null,
  });

  const stopCapture = () => {
    capture?.out?.end();
    if (capture) capture.out = null;
  };

  /** Writes one body as one JSON line (bodies that are not a JSON object are skipped), until n are written. */
  const captureBody = (body: Buffer) => {
    if (!capture?.out) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return;
    capture.out.write(`${JSON.stringify(parsed)}\n`);
    capture.captured += 1;
    if (capture.captured >= capture.n) stopCapture();
  };

  const pump = () => {
    while (inFlight < options.concurrency && queue.length > 0) {
      const copy = queue.shift() as Copy;
      inFlight += 1;
      forward(copy)
        .then(
          () => (counters.forwarded += 1),
          (error: Error) => {
            counters.failed += 1;
            counters.lastError = error.message;
          },
        )
        .finally(() => {
          inFlight -= 1;
          pump();
        });
    }
  };

  // The targets in turn; one that refuses (a replica restarting) passes the copy on to the next, once.
  let turn = 0;
  const forward = async (copy: Copy): Promise<void> => {
    const first = turn++ % options.targetSockets.length;
    try {
      await forwardTo(copy, options.targetSockets[first] as string);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (options.targetSockets.length < 2 || (code !== 'ECONNREFUSED' && code !== 'ENOENT')) throw error;
      await forwardTo(copy, options.targetSockets[(first + 1) % options.targetSockets.length] as string);
    }
  };

  // A fresh connection per copy (agent: false): it follows the preview link (or the Service's endpoints) as it is now.
  const forwardTo = (copy: Copy, target: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        {
          ...(urlTarget(target) ?? { socketPath: target }),
          method: copy.method,
          path: copy.path,
          agent: false,
          headers: { ...copy.headers, 'content-length': copy.body.length },
        },
        (res) => {
          res.resume();
          res.on('end', () => ((res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`${copy.path} answered ${res.statusCode}`))));
          res.on('error', reject);
        },
      );
      req.setTimeout(options.timeoutMs, () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(copy.body);
    });

  const control = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    if (req.url === RELAY_CONFIG_PATH && req.method === 'POST') {
      const percent = Number((JSON.parse(body.toString('utf8') || '{}') as { percent?: unknown }).percent);
      if (!(percent >= 0 && percent <= 100))
        return json(res, 422, { error: `percent must be a number from 0 to 100, not ${String(percent)}` });
      options.percent = percent;
    } else if (req.url === RELAY_CAPTURE_PATH && req.method === 'POST') {
      const asked = JSON.parse(body.toString('utf8') || '{}') as { file?: unknown; n?: unknown };
      const n = Number(asked.n);
      if (!(Number.isInteger(n) && n >= 0 && n <= MAX_CAPTURE_BODIES))
        return json(res, 422, { error: `n must be a whole number from 0 to ${MAX_CAPTURE_BODIES}, not ${String(asked.n)}` });
      stopCapture();
      if (n > 0) {
        if (typeof asked.file !== 'string' || asked.file === '') return json(res, 422, { error: 'file must name the file to write' });
        // 'w': a capture starts its file afresh; its bodies are the sample, nothing older.
        capture = { file: asked.file, n, captured: 0, out: createWriteStream(asked.file, { flags: 'w' }) };
        capture.out?.on('error', (error) => {
          counters.lastError = `capture: ${error.message}`;
          stopCapture();
        });
      }
    } else if (req.url !== RELAY_STATUS_PATH) {
      return json(res, 404, { error: `no relay route ${req.method} ${req.url}` });
    }
    return json(res, 200, status());
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url?.startsWith('/_relay/')) {
        try {
          control(req, res, body);
        } catch (error) {
          json(res, 400, { error: (error as Error).message });
        }
        return;
      }
      // Answer first: nginx's live request waits for this.
      res.writeHead(204).end();
      if (!isPrediction(req.method, req.url)) return;
      counters.received += 1;
      captureBody(body);
      if (random() * 100 >= options.percent) {
        counters.sampledOut += 1;
        return;
      }
      if (queue.length >= options.queueSize) {
        counters.dropped += 1;
        return;
      }
      const headers: Record<string, string> = {};
      for (const name of FORWARDED_HEADERS) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      // Every copy is a shadow copy: nginx's mirror says so, a Gateway's RequestMirror does not.
      headers[SHADOW_HEADER] ??= 'mirror';
      queue.push({ method: req.method ?? 'POST', path: req.url ?? '/', headers, body });
      pump();
    });
  });
  return { server, status };
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}
