import { ROUTER_CONNECTIONS } from '@mlbg/contract';
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createServer, type RequestListener, type Server } from 'node:http';
import { connect } from 'node:net';

/** nginx workers do not run as the user that starts the service, so the socket must be open to all. */
const SOCKET_MODE = 0o666;
/** Its folder (a color's folder of replica sockets) must be traversable by them too. */
const FOLDER_MODE = 0o755;

/**
 * Serves the same request handler on a unix socket too: nginx reaches a replica through a symlink
 * to its color's folder, and a switch moves the symlink (docs/architecture.md). A socket file left by a killed
 * process is removed; one that still answers means another process owns it, which is an error.
 */
export async function listenOnUnixSocket(path: string, handler: RequestListener): Promise<Server> {
  // In a fresh Compose volume the color's folder is made by whichever replica starts first (locally: by the deploy tool).
  await mkdir(dirname(path), { recursive: true, mode: FOLDER_MODE });
  await removeStaleSocket(path);
  const server = createServer(handler);
  // Longer than nginx's upstream keepalive_timeout: nginx closes an idle kept connection first, so
  // it never sends a request on one this side is closing.
  server.keepAliveTimeout = ROUTER_CONNECTIONS.COLOR_KEEP_ALIVE_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(path, SOCKET_MODE);
  socketInodes.set(server, (await lstat(path)).ino);
  return server;
}

/** The inode of the socket file each server created, to know it is still ours when removing it. */
const socketInodes = new WeakMap<Server, number>();

/**
 * Removes the socket file, if it is still the one `server` created: nginx then can open no new
 * connection to this draining color (it answers those requests itself, as for a stopped color),
 * while the connections it already holds are answered, with `Connection: close`, and end.
 */
export async function unlinkOwnSocket(server: Server, path: string): Promise<void> {
  const stat = await lstat(path).catch(() => undefined);
  if (stat?.isSocket() && stat.ino === socketInodes.get(server)) await unlink(path).catch(() => undefined);
}

async function removeStaleSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch(() => undefined);
  if (!stat) return;
  if (!stat.isSocket()) {
    throw new Error(`SOCKET_PATH ${path} exists and is not a socket; remove it or choose another path.`);
  }
  if (await socketAnswers(path)) {
    throw new Error(`SOCKET_PATH ${path} is in use by another process; stop it or choose another path.`);
  }
  await unlink(path);
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** Stops accepting, lets in-flight requests finish, and closes idle keep-alive connections. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

const CONNECTION_POLL_MS = 25;

/**
 * Resolves once no connection to `server` is left, or after `maxWaitMs`, with how many are left.
 * Draining answers every request with `Connection: close` and nginx closes its idle kept
 * connections after its keepalive_timeout, so this ends by itself; closing an idle connection from
 * this side instead could meet a request nginx is sending on it at that moment.
 */
export async function waitForNoConnections(server: Server, maxWaitMs: number): Promise<number> {
  const deadline = performance.now() + maxWaitMs;
  for (;;) {
    const open = await new Promise<number>((resolve) => server.getConnections((error, count) => resolve(error ? 0 : count)));
    if (open === 0 || performance.now() >= deadline) return open;
    await new Promise((resolve) => setTimeout(resolve, CONNECTION_POLL_MS));
  }
}
