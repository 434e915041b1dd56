import { realDeps, stackLayout } from '@mlbg/deploy';
import { loadavg, tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { type BaselineStack, startBaseline } from './baseline';
import { ENDPOINTS } from './endpoints';
import { LoadGenerator, failedCount } from './load';
import { machineInfo } from './machine';
import { type CasePlan, type Target, measureCase } from './measure';
import { type WatchedProcess, memorySnapshot, startPeakSampler } from './memory';
import { type OwnModelPair, startOwnModelPair } from './own-model';
import type { BenchOptions } from './options';
import { freePorts } from '@mlbg/deploy/testing';
import { checkTargets } from './report';
import type { BenchResult, CaseResult, MemorySnapshot, RouterComparison, SwitchUnderLoad, Via } from './result';
import { compareRouters, routerTargets, startNoKeepaliveRouter } from './routers';
import { WrkGenerator, findWrk } from './wrk';
import { type ServiceStack, attachServiceStack, startServiceStack } from './service-stack';
import { sideSucceeded } from './stats';
import { switchUnderLoad } from './switch-load';

export const WORKSPACE_ROOT = resolve(__dirname, '../../..');
/** The baseline's model when the bench does not know the live color's. */
const DEFAULT_MODEL = 'models/v1.0.0/model.onnx';

export interface BenchIo {
  readonly progress: (line: string) => void;
  /** Aborting stops the current load run and cleans up (Ctrl-C). */
  readonly signal?: AbortSignal;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export class BenchAborted extends Error {
  override readonly name = 'BenchAborted';
}

/** Where the service is reached: a stack the bench started or attached to, or bare URLs. */
interface ServiceTargets {
  readonly stack: ServiceStack | null;
  readonly direct: Target | null;
  readonly nginx: Target | null;
  readonly model: string | null;
}

function serviceTargets(stack: ServiceStack): ServiceTargets {
  const live = stack.colors[stack.live];
  return {
    stack,
    direct: { system: 'service', via: 'direct', url: live.url, serverPid: live.pid },
    nginx: { system: 'service', via: 'nginx', url: stack.routerUrl, serverPid: live.pid, proxyPid: stack.nginxPid },
    model: live.model,
  };
}

/**
 * The whole benchmark: the stack (started, attached or given by URL), the baseline, every case,
 * the switches under load and the memory. Everything it starts is stopped before it returns or
 * throws, also when `io.signal` aborts it.
 */
export async function runBench(options: BenchOptions, io: BenchIo): Promise<BenchResult> {
  const began = Date.now();
  const checkAborted = () => {
    if (io.signal?.aborted) throw new BenchAborted('aborted');
  };
  const nginx = realDeps({ workspaceRoot: WORKSPACE_ROOT, env: process.env, progress: () => undefined }).findBinary('nginx');
  if (!nginx) throw new Error('nginx is not installed (apt-get install -y nginx); the bench runs the real nginx.');
  const machine = machineInfo(nginx, new Date(began), loadavg()[0]);

  const cleanups: (() => Promise<void>)[] = [];
  let load: LoadGenerator | undefined;
  const onAbort = () => load?.stop();
  io.signal?.addEventListener('abort', onAbort);
  try {
    let service: ServiceTargets;
    if (options.url || options.blueUrl) {
      service = {
        stack: null,
        direct: options.blueUrl ? { system: 'service', via: 'direct', url: options.blueUrl } : null,
        nginx: options.url ? { system: 'service', via: 'nginx', url: options.url } : null,
        model: null,
      };
      io.progress(
        `Measuring the running service: ${[options.url && `nginx ${options.url}`, options.blueUrl && `directly ${options.blueUrl}`].filter(Boolean).join(', ')}.`,
      );
    } else if (options.stateDir) {
      const stack = await attachServiceStack({ workspaceRoot: WORKSPACE_ROOT, stateDir: options.stateDir, progress: io.progress });
      service = serviceTargets(stack);
      io.progress(`Measuring the running stack of ${stack.stateDir}: nginx ${stack.routerUrl}, ${stack.live} is live.`);
    } else {
      io.progress(
        `Starting the local stack (both colors and nginx) through the deploy library, LOG_LEVEL=${options.logLevel}${options.serviceRoot ? `, from ${options.serviceRoot}` : ''}...`,
      );
      const serviceRoot = options.serviceRoot ? resolve(options.serviceRoot) : WORKSPACE_ROOT;
      // One process per color against the one-process baseline, as the reference was measured; the
      // replicas' scaling is `bench:replicas`.
      const stack = await startServiceStack({
        workspaceRoot: serviceRoot,
        logLevel: options.logLevel,
        progress: () => undefined,
        replicas: 1,
      });
      cleanups.push(async () => {
        io.progress('Stopping the local stack...');
        await stack.stop();
      });
      service = serviceTargets(stack);
      io.progress(`  nginx ${stack.routerUrl}; blue ${stack.colors.blue.url}; green ${stack.colors.green.url}; ${stack.live} is live.`);
    }
    checkAborted();

    const baselineModel = resolve(WORKSPACE_ROOT, options.model ?? service.model ?? DEFAULT_MODEL);
    io.progress(`Starting the bare baseline (node:http + onnxruntime on ${baselineModel}) and its nginx...`);
    const [serverPort, routerPort] = await freePorts(2);
    const baseline: BaselineStack = await startBaseline({
      workspaceRoot: WORKSPACE_ROOT,
      modelPath: baselineModel,
      nginx,
      ports: { server: serverPort, router: routerPort },
    });
    cleanups.push(async () => {
      io.progress('Stopping the baseline...');
      await baseline.stop();
    });
    io.progress(`  baseline ${baseline.directUrl}; its nginx ${baseline.routerUrl}.`);

    // Endpoints with a model of their own (the classifier) get a service and a baseline on it.
    const ownModels = new Map<string, OwnModelPair>();
    for (const model of new Set(options.endpoints.flatMap((name) => ENDPOINTS[name].model ?? []))) {
      checkAborted();
      io.progress(`Starting a service and a bare baseline on ${model}...`);
      const pair = await startOwnModelPair({
        workspaceRoot: WORKSPACE_ROOT,
        serviceRoot: options.serviceRoot ? resolve(options.serviceRoot) : WORKSPACE_ROOT,
        model,
        logLevel: options.logLevel,
        nginx,
      });
      cleanups.push(async () => {
        io.progress(`Stopping the service and baseline on ${model}...`);
        await pair.stop();
      });
      ownModels.set(model, pair);
      io.progress(
        `  service ${pair.service.direct.url}, its nginx ${pair.service.nginx.url}; baseline ${pair.baseline.direct.url}, its nginx ${pair.baseline.nginx.url}.`,
      );
    }

    load = await LoadGenerator.start();
    const generator = load;
    cleanups.push(() => generator.close());
    checkAborted();

    const watched: WatchedProcess[] = [
      ...(service.stack
        ? [
            {
              name: `service blue${service.stack.live === 'blue' ? ' (live)' : ''}`,
              pid: service.stack.colors.blue.pid,
              withChildren: false,
            },
            {
              name: `service green${service.stack.live === 'green' ? ' (live)' : ''}`,
              pid: service.stack.colors.green.pid,
              withChildren: false,
            },
            { name: 'service nginx', pid: service.stack.nginxPid, withChildren: true },
          ]
        : []),
      { name: 'baseline server', pid: baseline.serverPid, withChildren: false },
      { name: 'baseline nginx', pid: baseline.nginxPid, withChildren: true },
    ];
    const memory: MemorySnapshot[] = [memorySnapshot('idle', watched)];
    const peaks = startPeakSampler(watched);
    cleanups.push(async () => void peaks.stop());

    const baselineTargets: Record<Via, Target> = {
      direct: { system: 'baseline', via: 'direct', url: baseline.directUrl, serverPid: baseline.serverPid },
      nginx: { system: 'baseline', via: 'nginx', url: baseline.routerUrl, serverPid: baseline.serverPid, proxyPid: baseline.nginxPid },
    };
    const plans: CasePlan[] = [];
    for (const name of options.endpoints) {
      const endpoint = ENDPOINTS[name];
      for (const connections of options.connections) {
        const pair = endpoint.model ? ownModels.get(endpoint.model) : undefined;
        for (const via of ['direct', 'nginx'] as const) {
          if (pair) {
            plans.push({ endpoint, via, connections, service: pair.service[via], baseline: pair.baseline[via] });
            continue;
          }
          const target = via === 'direct' ? service.direct : service.nginx;
          if (target) plans.push({ endpoint, via, connections, service: target, baseline: baselineTargets[via] });
        }
      }
    }
    const perCase = (options.warmupSeconds + options.durationSeconds * options.repeats) * 2;
    const estimate = plans.length * perCase;
    io.progress(
      `Measuring ${plans.length} cases (about ${estimate < 120 ? `${Math.round(estimate)} s` : `${Math.round(estimate / 60)} min`}), service and baseline alternating:`,
    );
    const cases: CaseResult[] = [];
    for (const [index, plan] of plans.entries()) {
      checkAborted();
      io.progress(`[${index + 1}/${plans.length}] ${plan.endpoint.label}, ${plan.via}, ${plan.connections} connection(s)`);
      cases.push(await measureCase(generator, plan, { ...options, progress: io.progress, checkAborted }));
    }

    const routers: RouterComparison[] = [];
    if (service.stack && service.direct && service.nginx) {
      checkAborted();
      const [port] = await freePorts(1);
      const socketDir = stackLayout(WORKSPACE_ROOT, service.stack.stateDir, tmpdir()).socketDir;
      io.progress(
        `Starting an nginx without upstream keepalive on the same sockets (port ${port}), to compare the routers side by side...`,
      );
      const plain = await startNoKeepaliveRouter({ workspaceRoot: WORKSPACE_ROOT, nginx, socketDir, port });
      cleanups.push(async () => {
        io.progress('Stopping the nginx without keepalive...');
        await plain.stop();
      });
      const noKeepalive: Target = { ...service.nginx, url: plain.url, proxyPid: plain.pid };
      const sides = { direct: service.direct, keepalive: service.nginx, noKeepalive };
      routers.push(await compareRouters(generator, sides, { ...options, progress: io.progress, checkAborted }));
      const wrk = findWrk();
      if (wrk) {
        const light = new WrkGenerator(wrk);
        try {
          routers.push(await compareRouters(light, sides, { ...options, progress: io.progress, checkAborted }));
        } finally {
          light.close();
        }
      } else {
        io.progress(
          '  (wrk is not installed: the routers are compared with autocannon only; `apt-get install wrk` adds the lighter client)',
        );
      }
    }

    let switching: SwitchUnderLoad | null = null;
    if (service.stack && options.switches > 0) {
      checkAborted();
      io.progress(`Switching traffic ${options.switches} times under load (${options.switchConnections} connections through nginx)...`);
      switching = await switchUnderLoad(generator, service.stack, {
        switches: options.switches,
        connections: options.switchConnections,
        progress: io.progress,
        checkAborted,
      });
    }
    memory.push(peaks.stop(), memorySnapshot('after load', watched));
    if (options.settleSeconds > 0) {
      io.progress(`Waiting ${options.settleSeconds} s for the processes to settle, then reading their memory again...`);
      await sleep(options.settleSeconds * 1000, io.signal);
      checkAborted();
      memory.push(memorySnapshot('settled', watched));
    }

    const failures: string[] = [];
    for (const item of cases) {
      for (const [system, side] of [
        ['service', item.service],
        ['baseline', item.baseline],
      ] as const) {
        if (side && !sideSucceeded(side)) {
          failures.push(
            `${system} ${item.label}, ${item.via}, ${item.connections} conn: ${side.failures.non2xx} non-2xx, ${side.failures.errors} socket errors, ${side.failures.timeouts} timeouts, ${side.failures.resets} resets ` +
              `(statuses ${JSON.stringify(Object.assign({}, ...side.runs.map((run) => run.statuses)))})`,
          );
        }
      }
    }
    if (switching) {
      if (failedCount(switching.load) > 0 || switching.load.requests === 0)
        failures.push(`switch under load: ${switching.failedRequests} of ${switching.load.requests} requests failed`);
      if (switching.pollerFailures > 0)
        failures.push(`switch under load: ${switching.pollerFailures} of ${switching.pollerRequests} /health polls through nginx failed`);
      for (const record of switching.records.filter((item) => !item.ok))
        failures.push(`switch ${record.index}: ${record.error ?? 'nginx did not serve the new color'}`);
    }
    const { json: _json, help: _help, out: _out, reference: _reference, render: _render, ...recorded } = options;
    return {
      schema: 1,
      machine,
      options: recorded,
      durationSeconds: Math.round((Date.now() - began) / 100) / 10,
      stack: {
        started: service.stack?.ownedByBench ?? false,
        live: service.stack?.live ?? null,
        serviceModel: service.model,
        baselineModel,
      },
      cases,
      switchUnderLoad: switching,
      routers,
      memory,
      targets: [...checkTargets(cases, switching, memory), ...routerTargets(routers)],
      allSucceeded: failures.length === 0,
      failures,
    };
  } finally {
    io.signal?.removeEventListener('abort', onAbort);
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: Error) => io.progress(`cleanup failed: ${error.message}`));
    }
  }
}
