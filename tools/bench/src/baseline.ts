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
/** The routed "color" folder of {@link routerFolders}: its processes' sockets, where every route link points. */
const ROUTED_FOLDER = 'color';
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

/** An nginx the bench started, rendered as `deploy:up` renders the stack's, in front of one folder of replica sockets. */
export interface Router {
  readonly url: string;
  readonly child: Child;
}

/**
 * Links `live`, `preview` and the canary slots in `socketDir` to its routed folder (where `replicas`
 * processes listen on `r1.sock`, `r2.sock`, ..., see {@link routerFolders}), and starts an nginx on
 * `port` rendered by the deploy library exactly as `deploy:up` renders the stack's with as many
 * replicas per color (`localNginxSite` + `renderNginxConf`), its prefix in `prefix`: the same proxy
 * path a color's replicas are reached by. Resolves once `/health` answers through it; the caller
 * stops it (SIGQUIT).
 */
export async function startRouter(options: {
  readonly workspaceRoot: string;
  readonly nginx: string;
  readonly socketDir: string;
  readonly prefix: string;
  readonly port: number;
  readonly name: string;
  /** Processes in the routed folder (default 1). */
  readonly replicas?: number;
}): Promise<Router> {
  const { socketDir, prefix } = options;
  const committed = loadDeploymentSpec(join(options.workspaceRoot, DEPLOYMENT_SPEC_PATH));
  const spec = { ...committed, replicas: { ...committed.replicas, perColor: options.replicas ?? 1 } };
  for (const link of [LIVE_LINK, PREVIEW_LINK, ...Array.from({ length: spec.canary.slots }, (_, slot) => liveSlotLink(slot))])
    symlinkSync(ROUTED_FOLDER, join(socketDir, link));

  writeFileSync(join(prefix, 'nginx.conf'), renderNginxConf(spec, localNginxSite(spec, { socketDir, port: options.port })));
  const nginxArgs = ['-p', `${prefix}/`, '-c', 'nginx.conf'];
  const check = spawnSync(options.nginx, ['-t', ...nginxArgs], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx -t refused the config of ${options.name}:\n${check.stderr}`);
  const child = startChild(options.name, options.nginx, [...nginxArgs, '-g', 'daemon off;'], {
    cwd: prefix,
    env: process.env,
    logFile: join(prefix, 'nginx.log'),
  });
  const url = `http://127.0.0.1:${options.port}`;
  try {
    await waitUntilOk(`${url}/health`, START_TIMEOUT_MS);
  } catch (error) {
    await stopChild(child, 'SIGQUIT');
    throw new Error(`${(error as Error).message}\nnginx said:\n${tail(child)}`);
  }
  return { url, child };
}

/**
 * Makes `dir`, its socket folder `run` with the routed folder in it, and its nginx prefix `nginx`, all
 * open to nginx's workers. `replicaSocketPath(n)` is where process n listens for {@link startRouter}.
 */
export function routerFolders(dir: string): { socketDir: string; prefix: string; replicaSocketPath: (replica: number) => string } {
  const socketDir = join(dir, 'run');
  const prefix = join(dir, 'nginx');
  for (const folder of [dir, socketDir, join(socketDir, ROUTED_FOLDER), prefix]) {
    mkdirSync(folder, { recursive: true });
    chmodSync(folder, OPEN_DIR_MODE);
  }
  return { socketDir, prefix, replicaSocketPath: (replica) => join(socketDir, ROUTED_FOLDER, replicaSocket(replica)) };
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
 * socket in one folder, and an nginx on `ports.router` in front of them ({@link startRouter}, with
 * as many replicas per color).
 */
export async function startBaseline(options: {
  readonly workspaceRoot: string;
  readonly modelPath: string;
  readonly nginx: string;
  readonly ports: { readonly server: number; readonly router: number };
  readonly processes?: number;
  /** Its processes' names (default "baseline server", "baseline nginx"). */
  readonly name?: string;
}): Promise<BaselineStack> {
  const processes = options.processes ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'mlbg-bench-baseline-'));
  const { socketDir, prefix, replicaSocketPath } = routerFolders(dir);
  const name = options.name ?? 'baseline';
  const started: Child[] = [];
  const stop = async () => {
    for (const child of [...started].reverse()) await stopChild(child, child.name.endsWith('nginx') ? 'SIGQUIT' : 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const servers = [];
    for (const number of replicaNumbers(processes)) {
      const server = await startBaselineServer({
        workspaceRoot: options.workspaceRoot,
        modelPath: options.modelPath,
        // One TCP port is enough for the direct cases; the others are reached through nginx only.
        port: number === 1 ? options.ports.server : 0,
        dir,
        socketPath: replicaSocketPath(number),
        name: number === 1 ? `${name} server` : `${name} server ${number}`,
      });
      started.push(server);
      servers.push(server);
    }
    const router = await startRouter({
      workspaceRoot: options.workspaceRoot,
      nginx: options.nginx,
      socketDir,
      prefix,
      port: options.ports.router,
      name: `${name} nginx`,
      replicas: processes,
    });
    started.push(router.child);
    const [first] = servers;
    return {
      directUrl: `http://127.0.0.1:${options.ports.server}`,
      routerUrl: router.url,
      serverPid: first?.pid ?? 0,
      serverPids: servers.map((server) => server.pid),
      nginxPid: router.child.pid,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
