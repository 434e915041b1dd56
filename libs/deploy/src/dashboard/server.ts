import { judgeMetrics } from '../gates/judge/prometheus';
import { lastJudgement } from './judge-metrics';
import fastifyStatic from '@fastify/static';
import {
  ActionRequests,
  type DashboardEvent,
  type DashboardEventName,
  type DashboardMeta,
  type DashboardSnapshot,
  type DiffAnswer,
  type DiffResult,
} from '@mlbg/contract';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { CommandContext } from '../commands/context';
import { DeployError } from '../errors';
import type { BackendKind } from '../history/history';
import {
  BAD_ORIGIN,
  type EdgeError,
  READ_ONLY,
  UNAUTHORIZED,
  bearerToken,
  cookieName,
  cookieValue,
  originAllowed,
  sameToken,
} from './access';
import { ACTIONS, ACTION_NAMES, type ActionEnv, type ActionName, type ActionOutcome } from './actions';
import type { DashboardFeed, FeedEvent } from './feed';

/** An SSE comment this often keeps proxies and idle timers from closing the stream. */
const HEARTBEAT_MS = 15_000;
/** The browser's EventSource waits this long before it reconnects after the server went away. */
const RECONNECT_MS = 2_000;

export interface DashboardOptions {
  readonly host: string;
  readonly port: number;
  /** Random when not given (tests give one). */
  readonly token?: string;
  readonly readOnly: boolean;
  /** The built page (dist/apps/dashboard). */
  readonly assetsDir: string;
  readonly backend: BackendKind;
  /** Who the history records for the page's actions, e.g. `ana (dashboard)`. */
  readonly userName: string;
  readonly feed: DashboardFeed;
  /** A fresh context for one action (its own gates, the deployment's lock and history); its progress goes to `progress`. */
  readonly openContext: (action: ActionName, progress: (line: string) => void) => Promise<CommandContext>;
  /** What actions read besides their context (the spec, for shadow's defaults). */
  readonly actionEnv: ActionEnv;
  /** `deploy:diff` as the CLI runs it with the spec's criteria (it keeps its report as the latest: not in read-only mode). */
  readonly diff: () => Promise<DiffResult>;
}

export interface RunningDashboard {
  readonly app: FastifyInstance;
  /** Where it listens, e.g. `http://127.0.0.1:3100/`. */
  readonly url: string;
  /** The URL to open: `url` with `?token=`. */
  readonly openUrl: string;
  readonly token: string;
  close(): Promise<void>;
}

/** Why the dashboard can not start when its page was never built. */
export function dashboardNotBuilt(assetsDir: string): DeployError {
  return new DeployError('DASHBOARD_NOT_BUILT', `${join(assetsDir, 'index.html')} does not exist.`);
}

/**
 * The dashboard's HTTP server: the page, `/api/state` (one snapshot), `/api/events` (server-sent
 * events: the stack, chart points, history, action progress), `POST /api/actions/<name>` and
 * `POST /api/diff` and `/metrics` (the canary judge's last verdict per check, in Prometheus' text format).
 * Every request needs the token; actions and the diff also need the page's Origin and no --read-only.
 */
export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  if (!existsSync(join(options.assetsDir, 'index.html'))) throw dashboardNotBuilt(options.assetsDir);
  const token = options.token ?? randomBytes(24).toString('hex');
  const app = Fastify({ logger: false });
  const streams = new Set<ServerResponse>();
  let port = options.port;
  const cookie = () => cookieName(port);

  const broadcast = <E extends DashboardEventName>(event: E, data: DashboardEvent<E>): void => {
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const stream of streams) stream.write(text);
  };
  const unsubscribe = options.feed.subscribe((event: FeedEvent) => broadcast(event.kind, event));

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header(
      'content-security-policy',
      "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
    );
    // The API's answers are the deployment right now: never from a cache.
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    const query = request.query as Record<string, string | undefined>;
    if (sameToken(query['token'], token)) {
      reply.header('set-cookie', `${cookie()}=${token}; Path=/; HttpOnly; SameSite=Strict`);
      // Keep the token out of the address bar and history once it is in the cookie.
      if (request.method === 'GET' && !request.url.startsWith('/api/')) return reply.redirect(request.url.split('?')[0] ?? '/', 303);
      return;
    }
    if (sameToken(cookieValue(request.headers.cookie, cookie()), token) || sameToken(bearerToken(request.headers.authorization), token))
      return;
    return refuse(reply, 401, UNAUTHORIZED);
  });

  // The spec's canary steps and interval, for the start form's defaults (null while the spec can not be read).
  const canaryDefaults = () => {
    try {
      const { steps, intervalSeconds } = options.actionEnv.spec().canary;
      return { steps, intervalSeconds };
    } catch {
      return null;
    }
  };
  const meta = (): DashboardMeta => ({
    backend: options.backend,
    readOnly: options.readOnly,
    user: options.userName,
    actions: options.readOnly ? [] : ACTION_NAMES,
    canaryDefaults: canaryDefaults(),
  });

  const snapshot = (): DashboardSnapshot => ({ ...meta(), ...options.feed.snapshot() });
  app.get('/api/state', async () => snapshot());

  // The canary judge's last verdict per check, for Prometheus (scrape it with the token as a bearer credential).
  app.get('/metrics', async (_request, reply) => {
    const { stack, history } = options.feed.snapshot();
    return reply
      .header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(await judgeMetrics(lastJudgement(stack, history.entries)));
  });

  app.get('/api/events', (request, reply) => {
    reply.hijack();
    const stream = reply.raw;
    stream.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    stream.write(`retry: ${RECONNECT_MS}\n\n`);
    stream.write(`event: snapshot\ndata: ${JSON.stringify(snapshot())}\n\n`);
    streams.add(stream);
    const heartbeat = setInterval(() => stream.write(': heartbeat\n\n'), HEARTBEAT_MS);
    request.raw.once('close', () => {
      clearInterval(heartbeat);
      streams.delete(stream);
    });
  });

  let running: ActionName | 'diff' | undefined;
  const busy = (reply: FastifyReply) => {
    const error = new DeployError('LOCKED', `the dashboard is already running ${running}.`);
    return reply.code(409).send({ ok: false, result: null, error: { code: error.code, message: error.message, hint: error.hint } });
  };

  // The compare keeps its report as the latest (a write) and loads the idle color's answers: a POST
  // from the page itself, not in --read-only, one at a time (as the actions).
  app.post('/api/diff', async (request, reply) => {
    if (!originAllowed(request.headers.origin, request.headers.host)) return refuse(reply, 403, BAD_ORIGIN);
    if (options.readOnly) return refuse(reply, 403, READ_ONLY);
    if (running) return busy(reply);
    running = 'diff';
    try {
      const result = await options.diff();
      // The compare kept its report as the latest: push it to every page now.
      await options.feed.refreshStack();
      const answer: DiffAnswer = { ok: true, result };
      return answer;
    } catch (error) {
      const known =
        error instanceof DeployError ? error : new DeployError('UNEXPECTED', error instanceof Error ? error.message : String(error));
      const answer: DiffAnswer = { ok: false, result: null, error: { code: known.code, message: known.message, hint: known.hint } };
      return reply.code(known.code === 'UNEXPECTED' ? 500 : 409).send(answer);
    } finally {
      running = undefined;
    }
  });

  app.post<{ Params: { name: string } }>('/api/actions/:name', async (request, reply) => {
    if (!originAllowed(request.headers.origin, request.headers.host)) return refuse(reply, 403, BAD_ORIGIN);
    if (options.readOnly) return refuse(reply, 403, READ_ONLY);
    const name = request.params.name;
    if (!isAction(name))
      return refuse(reply, 404, {
        error: { code: 'UNKNOWN_ACTION', message: `There is no action "${name}".`, hint: `The actions are ${ACTION_NAMES.join(', ')}.` },
      });
    // The page's request, read with the contract's schema of this action (the one its descriptor takes).
    const body = ActionRequests[name].safeParse(request.body ?? {});
    if (!body.success) {
      const detail = body.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
      return refuse(reply, 400, {
        error: {
          code: 'BAD_REQUEST',
          message: `The ${name} request is not valid: ${detail}.`,
          hint: 'Send JSON as the page does, e.g. {"color":"green"} for switch.',
        },
      });
    }
    if (running) return busy(reply);
    running = name;
    broadcast('action', { phase: 'started', name, request: body.data, user: options.userName });
    let outcome: ActionOutcome;
    try {
      const context = await options.openContext(name, (line) => broadcast('progress', { name, line }));
      outcome = await ACTIONS[name].run(context, body.data, options.actionEnv);
    } catch (error) {
      const known =
        error instanceof DeployError ? error : new DeployError('UNEXPECTED', error instanceof Error ? error.message : String(error));
      outcome = { ok: false, result: known.data ?? null, error: { code: known.code, message: known.message, hint: known.hint } };
    } finally {
      running = undefined;
    }
    broadcast('action', { phase: 'finished', name, request: body.data, user: options.userName, outcome });
    await options.feed.refreshStack();
    return reply.code(outcome.ok ? 200 : outcome.error?.code === 'UNEXPECTED' ? 500 : 409).send(outcome);
  });

  await app.register(fastifyStatic, {
    root: options.assetsDir,
    setHeaders: (reply, path) => {
      // Bundles have content hashes in their names; the page itself must always be asked again.
      reply.header('cache-control', path.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
    },
  });

  app.addHook('preClose', async () => {
    unsubscribe();
    for (const stream of streams) stream.end();
    streams.clear();
  });

  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  port = typeof address === 'object' && address ? address.port : options.port;
  // A wildcard bind is opened on this machine through loopback (elsewhere: through the machine's address).
  const shown = options.host === '0.0.0.0' ? '127.0.0.1' : options.host === '::' ? '::1' : options.host;
  const url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}/`;
  return { app, url, openUrl: `${url}?token=${token}`, token, close: () => app.close() };
}

function isAction(name: string): name is ActionName {
  return (ACTION_NAMES as string[]).includes(name);
}

function refuse(reply: FastifyReply, status: number, body: EdgeError): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}
