/**
 * The shadow relay process (see relay.ts), started by `deploy:shadow on` on the local stack:
 * `node -r @swc-node/register libs/deploy/src/backends/local/shadow/relay/main.ts` with RELAY_*
 * variables; on Kubernetes the ml-shadow-relay Deployment runs the built file from the service image.
 */
import { chmodSync, rmSync } from 'node:fs';
import { createRelay } from './relay';

function numberFrom(name: string, fallback: number): number {
  const text = process.env[name];
  const value = text === undefined || text === '' ? fallback : Number(text);
  if (!Number.isFinite(value) || value < 0) {
    console.error(`shadow-relay: ${name}=${JSON.stringify(text)} must be a number >= 0`);
    process.exit(1);
  }
  return value;
}

// Locally: a unix socket to listen on and the idle color's replica sockets through the preview link. On Kubernetes (the
// ml-shadow-relay Deployment, from the service image): a port, and the preview Service's URL.
const socket = process.env['RELAY_SOCKET'];
const port = process.env['RELAY_PORT'];
// Locally one socket per line (the idle color's replicas); on Kubernetes one URL.
const single = process.env['RELAY_TARGET_URL'] ?? process.env['RELAY_TARGET_SOCKET'];
const targetSockets = single ? [single] : (process.env['RELAY_TARGET_SOCKETS'] ?? '').split('\n').filter((line) => line !== '');
if ((!socket && !port) || targetSockets.length === 0) {
  console.error(
    "shadow-relay: RELAY_SOCKET or RELAY_PORT (where to listen) and RELAY_TARGET_SOCKETS (the idle color's replica sockets, one per line) or RELAY_TARGET_URL (the idle color) are required",
  );
  process.exit(1);
}
const { server, status } = createRelay({
  targetSockets,
  percent: Math.min(100, numberFrom('RELAY_PERCENT', 100)),
  queueSize: Math.max(1, numberFrom('RELAY_QUEUE_SIZE', 1000)),
  concurrency: Math.max(1, numberFrom('RELAY_CONCURRENCY', 4)),
  timeoutMs: Math.max(1, numberFrom('RELAY_TIMEOUT_MS', 5000)),
});
if (socket) {
  // A socket left by a killed relay would make listen fail with EADDRINUSE; only this process uses the name.
  rmSync(socket, { force: true });
  server.listen(socket, () => {
    chmodSync(socket, 0o666); // nginx's workers run as nobody when the master is root
    console.log(JSON.stringify({ msg: 'shadow relay listening', socket, ...status() }));
  });
} else {
  server.listen(numberFrom('RELAY_PORT', 8090), process.env['RELAY_HOST'] ?? '0.0.0.0', () =>
    console.log(JSON.stringify({ msg: 'shadow relay listening', port: Number(port), ...status() })),
  );
}
const stop = (signal: string) => {
  console.log(JSON.stringify({ msg: 'shadow relay stopping', signal, ...status() }));
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.once('SIGTERM', () => stop('SIGTERM'));
process.once('SIGINT', () => stop('SIGINT'));
