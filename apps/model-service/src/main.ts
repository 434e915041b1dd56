// First: the compile cache covers only the modules loaded after it.
import { saveCompileCache } from './lifecycle/compile-cache';
import 'reflect-metadata';
import { ROUTER_CONNECTIONS } from '@mlbg/contract';
import type { RequestListener, Server } from 'node:http';
import { createApp } from './app/create-app';
import { ConfigError, loadConfig, type AppConfig } from './config/app-config';
import { IDLE_GC_IDLE_BELOW, IDLE_GC_IDLE_INTERVALS, IDLE_GC_INTERVAL_MS, startIdleGc } from './lifecycle/idle-gc';
import { ReadinessTracker } from './lifecycle/readiness';
import { closeServer, listenOnUnixSocket, unlinkOwnSocket, waitForNoConnections } from './lifecycle/unix-socket';
import { ModelLoadError } from './model/onnx-model';

/**
 * How long a draining color waits for nginx to let go of its kept connections: by then this side's
 * own keep-alive timeout has closed any idle one (nginx's, shorter, closed them before).
 */
const ROUTER_DRAIN_WAIT_MS = ROUTER_CONNECTIONS.COLOR_KEEP_ALIVE_TIMEOUT_MS + 500;

/** Start-up problems the user can fix get one line and exit 1; anything else also prints its stack. */
function fail(error: unknown): never {
  const known = error instanceof ConfigError || error instanceof ModelLoadError;
  console.error(`model-service: ${known ? (error as Error).message : ((error as Error)?.stack ?? String(error))}`);
  process.exit(1);
}

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    fail(error);
  }
  const app = await createApp(config).catch(fail);
  const log = app.getHttpAdapter().getInstance().log;

  await app
    .listen({ port: config.port, host: config.host })
    .catch((error: Error) =>
      fail(new ConfigError(`cannot listen on ${config.host}:${config.port} (${error.message}); set PORT or HOST to a free address.`)),
    );
  let socketServer: Server | undefined;
  if (config.socketPath) {
    // The very handler Fastify serves TCP with, so both listeners behave the same.
    const handler = app.getHttpServer().listeners('request')[0] as RequestListener;
    socketServer = await listenOnUnixSocket(config.socketPath, handler).catch((error: Error) => fail(new ConfigError(error.message)));
  }
  // Everything start-up loads is loaded: keep its compiled code, even if this process is killed later.
  saveCompileCache();
  log.info({ url: await app.getUrl(), socket: config.socketPath ?? null }, 'listening');

  const MB = 1024 * 1024;
  const stopIdleGc =
    config.idleGcBytes > 0
      ? startIdleGc({
          thresholdBytes: config.idleGcBytes,
          intervalMs: IDLE_GC_INTERVAL_MS,
          idleBelow: IDLE_GC_IDLE_BELOW,
          idleIntervals: IDLE_GC_IDLE_INTERVALS,
          // The first quiet spell also gives back what start-up left (a grown young generation, garbage).
          initialFloorBytes: 0,
          onCollect: ({ rssBeforeBytes, heapUsedBeforeBytes, heapUsedAfterBytes, durationMs }) =>
            log.info(
              {
                rssBeforeMb: Math.round(rssBeforeBytes / MB),
                heapUsedBeforeMb: Math.round(heapUsedBeforeBytes / MB),
                heapUsedAfterMb: Math.round(heapUsedAfterBytes / MB),
                durationMs: Math.round(durationMs),
              },
              'idle after load: ran one full GC to give memory back',
            ),
        })
      : undefined;

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    stopIdleGc?.();
    // /health turns 503 at once; requests already accepted are answered before the process ends.
    app.get(ReadinessTracker).markDraining();
    log.info({ signal }, 'draining: finishing in-flight requests, then exiting');
    const timer = setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, 'in-flight requests did not finish in time; exiting anyway');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    if (socketServer && config.socketPath) {
      // No new connections from nginx; stop only once it holds none (it could send a request on one at any time).
      await unlinkOwnSocket(socketServer, config.socketPath);
      const left = await waitForNoConnections(socketServer, ROUTER_DRAIN_WAIT_MS);
      log.info(
        { routerConnectionsLeft: left },
        left === 0 ? 'nginx holds no connection to this color any more' : 'closing the connections nginx still holds',
      );
    }
    await Promise.all([socketServer ? closeServer(socketServer) : undefined, app.close()]);
    log.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

void main();
