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
 * rendered by the deploy library exactly as `deploy:up` renders the stack's, with `live.sock` (and
 * `preview.sock`) pointing at the baseline's socket: the same proxy path a color is reached by.
 */
export async function startBaseline(options: {
  readonly workspaceRoot: string;
  readonly modelPath: string;
  readonly nginx: string;
  readonly ports: { readonly server: number; readonly router: number };
}): Promise<BaselineStack> {
  const dir = mkdtempSync(join(tmpdir(), 'mlbg-bench-baseline-'));
  const socketDir = join(dir, 'run');
  const prefix = join(dir, 'nginx');
  for (const folder of [dir, socketDir, prefix]) {
    mkdirSync(folder, { recursive: true });
    chmodSync(folder, OPEN_DIR_MODE);
  }
  const started: Child[] = [];
  const stop = async () => {
    for (const child of [...started].reverse()) await stopChild(child, child.name === 'baseline nginx' ? 'SIGQUIT' : 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const spec = loadDeploymentSpec(join(options.workspaceRoot, DEPLOYMENT_SPEC_PATH));
    const server = await startBaselineServer({
      workspaceRoot: options.workspaceRoot,
      modelPath: options.modelPath,
      port: options.ports.server,
      dir,
      socketPath: join(socketDir, BASELINE_SOCKET),
    });
    started.push(server);
    symlinkSync(BASELINE_SOCKET, join(socketDir, LIVE_SOCKET));
    symlinkSync(BASELINE_SOCKET, join(socketDir, PREVIEW_SOCKET));
    for (let slot = 0; slot < spec.canary.slots; slot += 1) symlinkSync(BASELINE_SOCKET, join(socketDir, liveSlotSocket(slot)));

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
    return { directUrl: `http://127.0.0.1:${options.ports.server}`, routerUrl, serverPid: server.pid, nginxPid: nginx.pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
