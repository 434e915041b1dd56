import {
  DEPLOYMENT_SPEC_PATH,
  LIVE_LINK,
  PREVIEW_LINK,
  liveSlotLink,
  loadDeploymentSpec,
  localNginxSite,
  renderNginxConf,
  replicaNumbers,
  replicaSocket,
} from '@mlbg/deploy';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { type Child, startChild, stopChild, tail, waitForOutput } from './child';
import { waitUntilOk } from './http-probe';

const BASELINE_SERVER = join(__dirname, 'baseline-server.ts');
/** The baseline's "color" folder: its processes' sockets, where every route link points. */
const BASELINE_FOLDER = 'baseline';
const START_TIMEOUT_MS = 30_000;
/** Readable and traversable by nginx's workers, which run as `nobody` when the master is root. */
const OPEN_DIR_MODE = 0o755;

/**
 * The baseline server alone on `port` (and `socketPath`, when given), its script and log in `dir`.
 * Resolves once it listens; the caller stops it.
 */
export async function startBaselineServer(options: {
  readonly workspaceRoot: string;
  readonly modelPath: string;
  readonly port: number;
  readonly dir: string;
  readonly socketPath?: string;
  readonly name?: string;
}): Promise<Child> {
  // Plain JavaScript under plain node, as the service runs: no TypeScript hook in its CPU or memory.
  const script = join(options.dir, 'baseline-server.js');
  writeFileSync(
    script,
    ts.transpileModule(readFileSync(BASELINE_SERVER, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText,
  );
  const name = options.name ?? 'baseline server';
  const server = startChild(
    name,
    process.execPath,
    [script, options.modelPath, String(options.port), ...(options.socketPath ? [options.socketPath] : [])],
    {
      cwd: options.workspaceRoot,
      env: { ...process.env, NODE_PATH: join(options.workspaceRoot, 'node_modules') },
      logFile: join(options.dir, `${name.replace(/\W+/g, '-')}.log`),
    },
  );
  try {
    await waitForOutput(server, 'listening', START_TIMEOUT_MS);
  } catch (error) {
    await stopChild(server);
    throw error;
  }
  return server;
}

/** The bare baseline, served directly and through an nginx with the stack's own generated config. */
export interface BaselineStack {
  /** Its first process, directly. */
  readonly directUrl: string;
  readonly routerUrl: string;
  /** The first process's pid (CPU per request is read of it when there is one process). */
  readonly serverPid: number;
  readonly serverPids: readonly number[];
  readonly nginxPid: number;
  stop(): Promise<void>;
}

/**
 * Starts `processes` baseline servers (default 1), the first on `ports.server` too, each on a unix
 * socket in one folder, and an nginx on `ports.router` rendered by the deploy library exactly as
 * `deploy:up` renders the stack's with as many replicas per color, every route link pointing at
 * that folder: the same proxy path a color's replicas are reached by.
 */
export async function startBaseline(options: {
  readonly workspaceRoot: string;
  readonly modelPath: string;
  readonly nginx: string;
  readonly ports: { readonly server: number; readonly router: number };
  readonly processes?: number;
}): Promise<BaselineStack> {
  const processes = options.processes ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'mlbg-bench-baseline-'));
  const socketDir = join(dir, 'run');
  const prefix = join(dir, 'nginx');
  for (const folder of [dir, socketDir, join(socketDir, BASELINE_FOLDER), prefix]) {
    mkdirSync(folder, { recursive: true });
    chmodSync(folder, OPEN_DIR_MODE);
  }
  const started: Child[] = [];
  const stop = async () => {
    for (const child of [...started].reverse()) await stopChild(child, child.name === 'baseline nginx' ? 'SIGQUIT' : 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const committed = loadDeploymentSpec(join(options.workspaceRoot, DEPLOYMENT_SPEC_PATH));
    const spec = { ...committed, replicas: { ...committed.replicas, perColor: processes } };
    const servers = [];
    for (const number of replicaNumbers(processes)) {
      const server = await startBaselineServer({
        workspaceRoot: options.workspaceRoot,
        modelPath: options.modelPath,
        // One TCP port is enough for the direct cases; the others are reached through nginx only.
        port: number === 1 ? options.ports.server : 0,
        dir,
        socketPath: join(socketDir, BASELINE_FOLDER, replicaSocket(number)),
        name: number === 1 ? 'baseline server' : `baseline server ${number}`,
      });
      started.push(server);
      servers.push(server);
    }
    for (const link of [LIVE_LINK, PREVIEW_LINK, ...Array.from({ length: spec.canary.slots }, (_, slot) => liveSlotLink(slot))])
      symlinkSync(BASELINE_FOLDER, join(socketDir, link));

    writeFileSync(join(prefix, 'nginx.conf'), renderNginxConf(spec, localNginxSite(spec, { socketDir, port: options.ports.router })));
    const nginxArgs = ['-p', `${prefix}/`, '-c', 'nginx.conf'];
    const check = spawnSync(options.nginx, ['-t', ...nginxArgs], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`nginx -t refused the baseline's config:\n${check.stderr}`);
    const nginx = startChild('baseline nginx', options.nginx, [...nginxArgs, '-g', 'daemon off;'], {
      cwd: prefix,
      env: process.env,
      logFile: join(dir, 'nginx.log'),
    });
    started.push(nginx);
    const routerUrl = `http://127.0.0.1:${options.ports.router}`;
    await waitUntilOk(`${routerUrl}/health`, START_TIMEOUT_MS).catch((error: Error) => {
      throw new Error(`${error.message}\nnginx said:\n${tail(nginx)}`);
    });
    const [first] = servers;
    return {
      directUrl: `http://127.0.0.1:${options.ports.server}`,
      routerUrl,
      serverPid: first?.pid ?? 0,
      serverPids: servers.map((server) => server.pid),
      nginxPid: nginx.pid,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
