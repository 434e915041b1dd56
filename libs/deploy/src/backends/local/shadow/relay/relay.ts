import { type RelayStatus, SHADOW_HEADER } from '@mlbg/contract';
import { RELAY_STATUS_PATH } from '../../../../spec/sockets';
import {
  chmodSync,
  constants,
  createWriteStream,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  type WriteStream,
  writeFileSync,
} from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from 'node:http';
import { dirname, join } from 'node:path';
import { z } from 'zod';

/**
 * The shadow relay: the target of nginx's `mirror`. nginx holds the client's request until its
 * mirror subrequest is answered, so the relay answers 204 as soon as it has read the body, and only
 * then forwards a sample of the copies to the idle color, from a bounded queue that drops (and
 * counts) when full. Written on plain node:http: it is a few dozen lines, and a proxy library would
 * bring keep-alive pools that pin connections to a color a switch has since moved away from.
 *
 * Two sockets: nginx's (mode 0666, its workers may run as nobody), which takes copies and nothing
 * else, and the control socket (0600 in a 0700 folder: only the stack's user), which the deploy
 * commands use to read the counters, set the percent and start a capture.
 */

/** Control routes, on the control socket only (and a read-only status on a port: see main.ts). */
export { RELAY_STATUS_PATH };
export const RELAY_CONFIG_PATH = '/_relay/config';
/**
 * `{"name": "c.jsonl", "n": 1000}` starts writing the next n bodies (one JSON line each) to a new
 * file of that name in the relay's capture folder; `{"n": 0}` stops.
 */
export const RELAY_CAPTURE_PATH = '/_relay/capture';
/** Bodies one capture writes at most (a replay sends at most as many). */
export const MAX_CAPTURE_BODIES = 10_000;
/** What a capture file may be called: a plain name in the capture folder, never a path. */
export const CAPTURE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** A control call is a line of JSON. */
const MAX_CONTROL_BODY_BYTES = 4096;
/** Copies waiting for the idle color hold at most this many bytes of bodies, whatever the queue size. */
export const MAX_QUEUED_BYTES = 64 * 1024 * 1024;

export interface RelayOptions {
  /**
   * Where copies go, taken in turn: on the local stack every replica of the idle color through the
   * stack's `preview` link (`<socketDir>/preview/r1.sock`, ...), so they follow every switch; on
   * Kubernetes the preview Service's URL (`http://ml-preview:80`).
   */
  readonly targetSockets: readonly string[];
  /**
   * Answer `GET /_relay/status` (read-only counters) on the copies' way in too: on Kubernetes, where
   * the relay listens on a port and the backend reads its counters through the Service proxy.
   */
  readonly statusOnMirror?: boolean;
  /** 0..100: the share of copies forwarded (the rest are counted as sampled out). */
  percent: number;
  readonly queueSize: number;
  /** Copies in flight to the idle color at once. */
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** The folder capture files are created in (0700, made when missing): the stack's state folder. */
  readonly captureDir: string;
  /** A copy's body may be at most this long (the stack's body limit: nginx lets no longer one through). */
  readonly maxBodyBytes?: number;
  /** For tests: the sampling draw, 0 <= x < 1. */
  readonly random?: () => number;
  /**
   * Where the percent set on the control route is kept, and read at start in place of `percent`:
   * on Compose the relay is restarted by its policy with the environment it was created with, and
   * must go on forwarding the share `deploy:shadow on` asked for (the local stack's supervisor and
   * Kubernetes' Deployment keep it in the environment instead).
   */
  readonly stateFile?: string;
}

/** What a relay keeps in its state file. */
const RelayState = z.object({ percent: z.number().min(0).max(100) });

/** The percent kept in `file`, or why it can not be used (absent: a relay never told one). */
function readRelayState(file: string): { percent: number } | { problem: string } | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return { problem: `its state file ${file} can not be read (${(error as Error).message})` };
  }
  try {
    const state = RelayState.safeParse(JSON.parse(text));
    if (state.success) return state.data;
  } catch {
    // Not JSON: said below.
  }
  return { problem: `its state file ${file} holds no percent from 0 to 100: ${text.slice(0, 100)}` };
}

/** Written whole, then renamed over the old one: a relay killed while writing leaves the old file. */
function writeRelayState(file: string, state: z.infer<typeof RelayState>): void {
  const next = `${file}.${process.pid}.next`;
  writeFileSync(next, JSON.stringify(state));
  renameSync(next, file);
}

/** nginx's default client_max_body_size: the relay's limit when none is given. */
export const DEFAULT_RELAY_MAX_BODY_BYTES = 1024 * 1024;

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

export interface Relay {
  /** nginx's way in: copies only. */
  readonly mirror: Server;
  /** The deploy commands' way in: status, percent, capture. */
  readonly control: Server;
  readonly status: () => RelayStatus;
}

export function createRelay(options: RelayOptions): Relay {
  const random = options.random ?? Math.random;
  const counters: RelayCounters = { received: 0, sampledOut: 0, dropped: 0, forwarded: 0, failed: 0, lastError: null };
  const kept = options.stateFile ? readRelayState(options.stateFile) : null;
  if (kept && 'percent' in kept) options.percent = kept.percent;
  else if (kept) counters.lastError = `started with ${options.percent}%: ${kept.problem}`;
  const queue: Copy[] = [];
  let inFlight = 0;
  let queuedBytes = 0;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_RELAY_MAX_BODY_BYTES;
  /** `out` is null once the capture stopped; `closed` once its file is complete on disk. */
  let capture: { file: string; n: number; captured: number; out: WriteStream | null; closed: boolean } | null = null;

  const status = (): RelayStatus => ({
    ...counters,
    percent: options.percent,
    queueSize: options.queueSize,
    queued: queue.length,
    inFlight,
    targetSockets: [...options.targetSockets],
    capture: capture ? { file: capture.file, n: capture.n, captured: capture.captured, active: !capture.closed } : null,
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
      queuedBytes -= copy.body.length;
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

  const startCapture = (asked: { name?: unknown; n: number }): { status: number; error: string } | undefined => {
    if (typeof asked.name !== 'string' || !CAPTURE_NAME.test(asked.name))
      return { status: 422, error: `name must be a plain file name (letters, digits, ".", "_", "-"), not ${JSON.stringify(asked.name)}` };
    const file = join(options.captureDir, asked.name);
    let fd: number;
    try {
      ensurePrivateDir(options.captureDir);
      // A new file only (O_EXCL), never through a link planted in its place (O_NOFOLLOW), readable by this user only.
      fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return { status: code === 'EEXIST' ? 409 : 422, error: `can not create ${file}: ${(error as Error).message}` };
    }
    stopCapture();
    const out = createWriteStream('', { fd });
    const started = { file, n: asked.n, captured: 0, out: out as WriteStream | null, closed: false };
    capture = started;
    out.on('close', () => (started.closed = true));
    out.on('error', (error) => {
      counters.lastError = `capture: ${error.message}`;
      started.out = null;
    });
    return undefined;
  };

  const control = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    if (req.url === RELAY_CONFIG_PATH && req.method === 'POST') {
      const percent = Number((JSON.parse(body.toString('utf8') || '{}') as { percent?: unknown }).percent);
      if (!(percent >= 0 && percent <= 100))
        return json(res, 422, { error: `percent must be a number from 0 to 100, not ${String(percent)}` });
      if (options.stateFile) {
        try {
          writeRelayState(options.stateFile, { percent });
        } catch (error) {
          return json(res, 500, {
            error: `the percent can not be kept in ${options.stateFile} (${(error as Error).message}); it is still ${options.percent}`,
          });
        }
      }
      options.percent = percent;
    } else if (req.url === RELAY_CAPTURE_PATH && req.method === 'POST') {
      const asked = JSON.parse(body.toString('utf8') || '{}') as { name?: unknown; n?: unknown };
      const n = Number(asked.n);
      if (!(Number.isInteger(n) && n >= 0 && n <= MAX_CAPTURE_BODIES))
        return json(res, 422, { error: `n must be a whole number from 0 to ${MAX_CAPTURE_BODIES}, not ${String(asked.n)}` });
      if (n > 0) {
        const refused = startCapture({ name: asked.name, n });
        if (refused) return json(res, refused.status, { error: refused.error });
      } else {
        stopCapture();
      }
    } else if (req.url !== RELAY_STATUS_PATH) {
      return json(res, 404, { error: `no relay route ${req.method} ${req.url}` });
    }
    return json(res, 200, status());
  };

  const controlServer = createServer((req, res) => {
    readBody(req, MAX_CONTROL_BODY_BYTES, (body) => {
      if (body === null) return json(res, 413, { error: `a control call is at most ${MAX_CONTROL_BODY_BYTES} bytes` });
      try {
        control(req, res, body);
      } catch (error) {
        json(res, 400, { error: (error as Error).message });
      }
    });
  });

  const mirror = createServer((req, res) => {
    if (req.url?.startsWith('/_relay/')) {
      req.resume();
      // On a port (Kubernetes) the backend reads the counters here; nothing else, never a change.
      if (options.statusOnMirror && req.method === 'GET' && req.url === RELAY_STATUS_PATH) return json(res, 200, status());
      return json(res, 404, { error: 'the relay takes control calls on its control socket only' });
    }
    readBody(req, maxBodyBytes, (body) => {
      if (body === null) {
        counters.received += 1;
        counters.dropped += 1;
        counters.lastError = `a copy of ${req.method} ${req.url} was over ${maxBodyBytes} bytes`;
        return json(res, 413, { error: `a copy is at most ${maxBodyBytes} bytes` });
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
      if (queue.length >= options.queueSize || queuedBytes + body.length > MAX_QUEUED_BYTES) {
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
      queuedBytes += body.length;
      pump();
    });
  });
  return { mirror, control: controlServer, status };
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

/** Reads a whole body, or gives up past `limit` bytes (`done(null)`; the rest is read and thrown away, never kept). */
function readBody(req: IncomingMessage, limit: number, done: (body: Buffer | null) => void): void {
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    req.resume();
    done(null);
    return;
  }
  const chunks: Buffer[] = [];
  let length = 0;
  let over = false;
  req.on('data', (chunk: Buffer) => {
    if (over) return;
    length += chunk.length;
    if (length > limit) {
      over = true;
      chunks.length = 0;
      done(null);
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (!over) done(Buffer.concat(chunks));
  });
}

/** Makes `dir` (0700) if missing; refuses one that is a link, another user's, or open to others. */
function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  const uid = process.getuid?.() ?? -1;
  if (!stat.isDirectory() || (uid >= 0 && stat.uid !== uid) || (stat.mode & 0o077) !== 0)
    throw new Error(`${dir} must be a folder of this user's that no one else can open (mode 0700)`);
}

/**
 * Listens on both sockets: nginx's (mode 0666) and the control socket (0600, in its own 0700
 * folder, so it is never open to others, not even between listen and chmod). Stale socket files
 * left by a killed relay are removed first (only this process uses the names).
 */
export async function listenRelay(relay: Relay, sockets: { readonly mirror: string; readonly control: string }): Promise<void> {
  ensurePrivateDir(dirname(sockets.control));
  for (const [server, socket, mode] of [
    [relay.mirror, sockets.mirror, 0o666],
    [relay.control, sockets.control, 0o600],
  ] as const) {
    rmSync(socket, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(socket, mode);
  }
}
