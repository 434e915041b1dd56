import {
  DEPLOYMENT_SPEC_PATH,
  LIVE_SOCKET,
  PREVIEW_SOCKET,
  liveSlotSocket,
  loadDeploymentSpec,
  localNginxSite,
  renderNginxConf,
} from '@mlbg/deploy';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { type Child, startChild, stopChild, tail, waitForOutput } from './child';
import { waitUntilOk } from './http-probe';

const BASELINE_SERVER = join(__dirname, 'baseline-server.ts');
const BASELINE_SOCKET = 'baseline.sock';
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

/** An nginx the bench started, rendered as `deploy:up` renders the stack's, in front of one socket. */
export interface Router {
  readonly url: string;
  readonly child: Child;
}

/**
 * Links `live.sock`, `preview.sock` and the canary slots in `socketDir` to `socketName` (a socket in
 * that folder), and starts an nginx on `port` rendered by the deploy library exactly as `deploy:up`
 * renders the stack's (`localNginxSite` + `renderNginxConf`), its prefix in `prefix`: the same proxy
 * path a color is reached by. Resolves once `/health` answers through it; the caller stops it (SIGQUIT).
 */
export async function startRouter(options: {
  readonly workspaceRoot: string;
  readonly nginx: string;
  readonly socketDir: string;
  readonly socketName: string;
  readonly prefix: string;
  readonly port: number;
  readonly name: string;
}): Promise<Router> {
  const { socketDir, socketName, prefix } = options;
  const spec = loadDeploymentSpec(join(options.workspaceRoot, DEPLOYMENT_SPEC_PATH));
  symlinkSync(socketName, join(socketDir, LIVE_SOCKET));
  symlinkSync(socketName, join(socketDir, PREVIEW_SOCKET));
  for (let slot = 0; slot < spec.canary.slots; slot += 1) symlinkSync(socketName, join(socketDir, liveSlotSocket(slot)));

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

/** Makes `dir`, its socket folder `run` and its nginx prefix `nginx`, all open to nginx's workers. */
export function routerFolders(dir: string): { socketDir: string; prefix: string } {
  const socketDir = join(dir, 'run');
  const prefix = join(dir, 'nginx');
  for (const folder of [dir, socketDir, prefix]) {
    mkdirSync(folder, { recursive: true });
    chmodSync(folder, OPEN_DIR_MODE);
  }
  return { socketDir, prefix };
}

/** The bare baseline, served directly and through an nginx with the stack's own generated config. */
export interface BaselineStack {
  readonly directUrl: string;
  readonly routerUrl: string;
  readonly serverPid: number;
  readonly nginxPid: number;
  stop(): Promise<void>;
}

/**
 * Starts the baseline server on `ports.server` and on a unix socket, and an nginx on `ports.router`
 * in front of that socket ({@link startRouter}).
 */
export async function startBaseline(options: {
  readonly workspaceRoot: string;
  readonly modelPath: string;
  readonly nginx: string;
  readonly ports: { readonly server: number; readonly router: number };
  /** Its processes' names (default "baseline server", "baseline nginx"). */
  readonly name?: string;
}): Promise<BaselineStack> {
  const dir = mkdtempSync(join(tmpdir(), 'mlbg-bench-baseline-'));
  const { socketDir, prefix } = routerFolders(dir);
  const name = options.name ?? 'baseline';
  const started: Child[] = [];
  const stop = async () => {
    for (const child of [...started].reverse()) await stopChild(child, child.name.endsWith('nginx') ? 'SIGQUIT' : 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const server = await startBaselineServer({
      workspaceRoot: options.workspaceRoot,
      modelPath: options.modelPath,
      port: options.ports.server,
      dir,
      socketPath: join(socketDir, BASELINE_SOCKET),
      name: `${name} server`,
    });
    started.push(server);
    const router = await startRouter({
      workspaceRoot: options.workspaceRoot,
      nginx: options.nginx,
      socketDir,
      socketName: BASELINE_SOCKET,
      prefix,
      port: options.ports.router,
      name: `${name} nginx`,
    });
    started.push(router.child);
    return {
      directUrl: `http://127.0.0.1:${options.ports.server}`,
      routerUrl: router.url,
      serverPid: server.pid,
      nginxPid: router.child.pid,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
