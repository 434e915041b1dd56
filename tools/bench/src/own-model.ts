import { freePorts } from '@mlbg/deploy/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BaselineStack, type Router, routerFolders, startBaseline, startRouter } from './baseline';
import { type Child, startChild, stopChild, tail } from './child';
import { waitUntilOk } from './http-probe';
import type { Target } from './measure';

const START_TIMEOUT_MS = 30_000;
/** The service's build, as `deploy:up` and the Dockerfile run it. */
const SERVICE_MAIN = 'dist/apps/model-service/src/main.js';

/** A model-service process and a bare baseline, both on one model of their own, each reached directly and through an nginx of its own. */
export interface OwnModelPair {
  readonly model: string;
  readonly service: Readonly<Record<'direct' | 'nginx', Target>>;
  readonly baseline: Readonly<Record<'direct' | 'nginx', Target>>;
  readonly stop: () => Promise<void>;
}

/**
 * Starts the built service (from `serviceRoot`) and the baseline server on `model`, each on a free
 * loopback port and a unix socket behind an nginx of its own (rendered as the stack's), for the
 * cases whose endpoint has a model of its own (e.g. the classifier). The service runs as a color
 * does, with LOG_LEVEL `logLevel`; the caller stops everything with `stop`.
 */
export async function startOwnModelPair(options: {
  workspaceRoot: string;
  serviceRoot: string;
  model: string;
  logLevel: string;
  nginx: string;
}): Promise<OwnModelPair> {
  const dir = mkdtempSync(join(tmpdir(), 'mlbg-bench-own-model-'));
  const { socketDir, prefix, replicaSocketPath } = routerFolders(dir);
  const modelPath = resolve(options.workspaceRoot, options.model);
  const [servicePort, serviceRouterPort, baselinePort, baselineRouterPort] = await freePorts(4);
  let service: Child | undefined;
  let router: Router | undefined;
  let baseline: BaselineStack | undefined;
  const stop = async () => {
    await baseline?.stop();
    if (router) await stopChild(router.child, 'SIGQUIT');
    if (service) await stopChild(service);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_ENV' && !key.startsWith('JEST')));
    const child = startChild(`service on ${options.model}`, process.execPath, [join(options.serviceRoot, SERVICE_MAIN)], {
      cwd: options.serviceRoot,
      env: {
        ...env,
        MODEL_PATH: modelPath,
        PORT: String(servicePort),
        HOST: '127.0.0.1',
        SOCKET_PATH: replicaSocketPath(1),
        LOG_LEVEL: options.logLevel,
        COLOR: 'blue',
      },
      logFile: join(dir, 'service.log'),
    });
    service = child;
    const serviceUrl = `http://127.0.0.1:${servicePort}`;
    await waitUntilOk(`${serviceUrl}/health`, START_TIMEOUT_MS).catch((error: Error) => {
      throw new Error(`${error.message}\nthe service said:\n${tail(child)}`);
    });
    router = await startRouter({
      workspaceRoot: options.workspaceRoot,
      nginx: options.nginx,
      socketDir,
      prefix,
      port: serviceRouterPort,
      name: `nginx of the service on ${options.model}`,
    });
    baseline = await startBaseline({
      workspaceRoot: options.workspaceRoot,
      modelPath,
      nginx: options.nginx,
      ports: { server: baselinePort, router: baselineRouterPort },
      name: `baseline on ${options.model}`,
    });
    return {
      model: options.model,
      service: {
        direct: { system: 'service', via: 'direct', url: serviceUrl, serverPid: child.pid },
        nginx: { system: 'service', via: 'nginx', url: router.url, serverPid: child.pid, proxyPid: router.child.pid },
      },
      baseline: {
        direct: { system: 'baseline', via: 'direct', url: baseline.directUrl, serverPid: baseline.serverPid },
        nginx: { system: 'baseline', via: 'nginx', url: baseline.routerUrl, serverPid: baseline.serverPid, proxyPid: baseline.nginxPid },
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
