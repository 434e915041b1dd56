import { freePorts } from '@mlbg/deploy/testing';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startBaselineServer } from './baseline';
import { type Child, startChild, stopChild, tail } from './child';
import { waitUntilOk } from './http-probe';
import type { Target } from './measure';

const START_TIMEOUT_MS = 30_000;
/** The service's build, as `deploy:up` and the Dockerfile run it. */
const SERVICE_MAIN = 'dist/apps/model-service/src/main.js';

/** A model-service process and a bare baseline, both on one model of their own, reached directly. */
export interface OwnModelPair {
  readonly model: string;
  readonly service: Target;
  readonly baseline: Target;
  readonly stop: () => Promise<void>;
}

/**
 * Starts the built service (from `serviceRoot`) and the baseline server on `model`, each on a free
 * loopback port, for the cases whose endpoint has a model of its own (e.g. the classifier). The
 * service runs as a color does, with LOG_LEVEL `logLevel`; the caller stops both.
 */
export async function startOwnModelPair(options: {
  workspaceRoot: string;
  serviceRoot: string;
  model: string;
  logLevel: string;
}): Promise<OwnModelPair> {
  const dir = mkdtempSync(join(tmpdir(), 'mlbg-bench-own-model-'));
  chmodSync(dir, 0o755);
  const modelPath = resolve(options.workspaceRoot, options.model);
  const [servicePort, baselinePort] = await freePorts(2);
  const started: Child[] = [];
  const stop = async () => {
    for (const child of [...started].reverse()) await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_ENV' && !key.startsWith('JEST')));
    const service = startChild(`service on ${options.model}`, process.execPath, [join(options.serviceRoot, SERVICE_MAIN)], {
      cwd: options.serviceRoot,
      env: { ...env, MODEL_PATH: modelPath, PORT: String(servicePort), HOST: '127.0.0.1', LOG_LEVEL: options.logLevel, COLOR: 'blue' },
      logFile: join(dir, 'service.log'),
    });
    started.push(service);
    const serviceUrl = `http://127.0.0.1:${servicePort}`;
    await waitUntilOk(`${serviceUrl}/health`, START_TIMEOUT_MS).catch((error: Error) => {
      throw new Error(`${error.message}\nthe service said:\n${tail(service)}`);
    });
    const baseline = await startBaselineServer({
      workspaceRoot: options.workspaceRoot,
      modelPath,
      port: baselinePort,
      dir,
      name: `baseline on ${options.model}`,
    });
    started.push(baseline);
    return {
      model: options.model,
      service: { system: 'service', via: 'direct', url: serviceUrl, serverPid: service.pid },
      baseline: { system: 'baseline', via: 'direct', url: `http://127.0.0.1:${baselinePort}`, serverPid: baseline.pid },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
